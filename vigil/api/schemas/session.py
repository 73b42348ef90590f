from pydantic import BaseModel, StrictBool

from vigil.api.schemas.common import LoginText, Request
from vigil.api.schemas.users import UserOut
from vigil.auth.rights import Function, Operation, ResourceAccess


class Login(Request):
    name: LoginText
    password: LoginText
    # The browser keeps the session cookie after it closes (until the session ends), not
    # only while it is open; the server ends the session as it would any other.
    remember: StrictBool = False


class RightsOut(BaseModel):
    functions: list[Function]
    operations: list[Operation]
    resources: ResourceAccess


class Me(BaseModel):
    user: UserOut
    role_name: str
    rights: RightsOut


class LoginOut(Me):
    token: str


class RightsCatalogue(BaseModel):
    """Every function and operation a role can be given, for the role editor."""

    functions: list[Function]
    operations: list[Operation]
