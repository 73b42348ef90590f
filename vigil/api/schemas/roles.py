from typing import Annotated

from pydantic import BaseModel, Field

from vigil.api.schemas.common import Description, Name, Patch, Request
from vigil.auth.rights import Function, Operation, ResourceAccess
from vigil.auth.roles import Role

# Each right at most once: a longer list only repeats one, and would be kept in the system
# document as sent.
Functions = Annotated[list[Function], Field(max_length=len(Function))]
Operations = Annotated[list[Operation], Field(max_length=len(Operation))]


class RoleOut(BaseModel):
    id: str
    name: str
    description: str
    builtin: bool
    functions: list[Function]
    operations: list[Operation]
    resources: ResourceAccess

    @classmethod
    def of(cls, role: Role) -> "RoleOut":
        return cls(
            id=role.id,
            name=role.name,
            description=role.description,
            builtin=role.builtin,
            functions=sorted(role.rights.functions),
            operations=sorted(role.rights.operations),
            resources=role.rights.resources,
        )


class RoleList(BaseModel):
    roles: list[RoleOut]


class RoleCreate(Request):
    name: Name
    description: Description = ""
    functions: Functions = []
    operations: Operations = []
    resources: ResourceAccess = ResourceAccess()


class RoleUpdate(Patch):
    name: Name | None = None
    description: Description | None = None
    functions: Functions | None = None
    operations: Operations | None = None
    resources: ResourceAccess | None = None
