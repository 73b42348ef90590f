from pydantic import BaseModel

from vigil.api.schemas.common import Description, Name, Patch, Request
from vigil.auth.rights import Function, Operation, ResourceAccess
from vigil.auth.roles import Role


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
    functions: list[Function] = []
    operations: list[Operation] = []
    resources: ResourceAccess = ResourceAccess()


class RoleUpdate(Patch):
    name: Name | None = None
    description: Description | None = None
    functions: list[Function] | None = None
    operations: list[Operation] | None = None
    resources: ResourceAccess | None = None
