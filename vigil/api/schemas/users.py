from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, StrictBool

from vigil.api.schemas.common import Email, FullName, LoginText, Name, Password, Patch, Request
from vigil.auth.users import User


class UserOut(BaseModel):
    id: str
    name: str
    full_name: str
    email: str
    role_id: str
    enabled: bool
    # Locked after wrong passwords, each lock of the account from one address: until when the
    # last ends (None: no lock now), and from which addresses.
    locked_until_ms: int | None
    locked_from: list[str]
    created_ms: int

    @classmethod
    def of(cls, user: User, now_ms: int) -> "UserOut":
        r = user.record
        locks = {address: until for address, until in r.locks.items() if until > now_ms}
        return cls(
            id=user.id,
            name=r.name,
            full_name=r.full_name,
            email=r.email,
            role_id=r.role_id,
            enabled=r.enabled,
            locked_until_ms=max(locks.values(), default=None),
            locked_from=sorted(locks),
            created_ms=r.created_ms,
        )


class UserList(BaseModel):
    users: list[UserOut]


class UserCreate(Request):
    name: Name
    password: Password
    role_id: str
    full_name: FullName = ""
    email: Email = ""
    enabled: StrictBool = True


def _a_boolean(value: object) -> object:
    """`0` is not `false`, as the description says (a boolean)."""
    if not isinstance(value, bool):
        raise ValueError("must be false")
    return value


class UserUpdate(Patch):
    """Only the fields given change. `locked: false` lifts a lock-out early."""

    name: Name | None = None
    password: Password | None = None
    role_id: str | None = None
    full_name: FullName | None = None
    email: Email | None = None
    enabled: StrictBool | None = None
    # Only false: accounts are locked by wrong passwords, never by hand.
    locked: Annotated[Literal[False], BeforeValidator(_a_boolean)] | None = None


class PasswordChange(Request):
    current_password: LoginText
    new_password: Password
