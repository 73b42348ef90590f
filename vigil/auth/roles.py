"""Roles: the four built-in ones and the custom roles kept in the system document."""

import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from vigil.auth.rights import ALL, Function, Operation, ResourceAccess, Rights
from vigil.errors import Conflict, Forbidden, LimitReached, NotFound
from vigil.state import Collection

OWNER = "owner"
ADMINISTRATOR = "administrator"
OPERATOR = "operator"
VIEWER = "viewer"

MAX_CUSTOM_ROLES = 100

_EVERYTHING = ResourceAccess(cameras=ALL, layouts=ALL)
FULL_RIGHTS = Rights(
    functions=frozenset(Function), operations=frozenset(Operation), resources=_EVERYTHING
)


class Role(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    description: str
    builtin: bool
    rights: Rights


class RoleRecord(BaseModel):
    """A custom role as stored in the system document."""

    model_config = ConfigDict(frozen=True)

    name: str
    description: str = ""
    functions: list[Function]
    operations: list[Operation]
    resources: ResourceAccess

    def to_role(self, role_id: str) -> Role:
        rights = Rights(
            functions=frozenset(self.functions),
            operations=frozenset(self.operations),
            resources=self.resources,
        )
        return Role(
            id=role_id, name=self.name, description=self.description, builtin=False, rights=rights
        )


BUILTIN_ROLES: dict[str, Role] = {
    role.id: role
    for role in (
        Role(
            id=OWNER,
            name="Owner",
            description="The single top user, made with the system; every right.",
            builtin=True,
            rights=FULL_RIGHTS,
        ),
        Role(
            id=ADMINISTRATOR,
            name="Administrator",
            description="Every function and operation on every camera and layout.",
            builtin=True,
            rights=FULL_RIGHTS,
        ),
        Role(
            id=OPERATOR,
            name="Operator",
            description="Watches, plays back, exports, moves PTZ and searches on every camera; "
            "manages layouts.",
            builtin=True,
            rights=Rights(
                functions=frozenset(
                    {
                        Function.LIVE_VIEW,
                        Function.PLAYBACK,
                        Function.EXPORT,
                        Function.PTZ,
                        Function.SMART_SEARCH,
                        Function.EVENT_LOG,
                    }
                ),
                operations=frozenset(
                    {Operation.LAYOUT_ADD, Operation.LAYOUT_EDIT, Operation.LAYOUT_DELETE}
                ),
                resources=_EVERYTHING,
            ),
        ),
        Role(
            id=VIEWER,
            name="Viewer",
            description="Watches live video and plays back recordings of every camera.",
            builtin=True,
            rights=Rights(
                functions=frozenset({Function.LIVE_VIEW, Function.PLAYBACK}),
                resources=_EVERYTHING,
            ),
        ),
    )
}


def _name_key(name: str) -> str:
    return name.casefold()


class RoleService:
    def __init__(self, records: Collection[RoleRecord]) -> None:
        self._records = records

    def get(self, role_id: str) -> Role | None:
        if role_id in BUILTIN_ROLES:
            return BUILTIN_ROLES[role_id]
        record = self._records.get(role_id)
        return record.to_role(role_id) if record else None

    def require(self, role_id: str, *, field: str | None = None) -> Role:
        role = self.get(role_id)
        if role is None:
            raise NotFound(f"there is no role {role_id!r}", field=field)
        return role

    def all(self) -> list[Role]:
        custom = sorted(
            (r.to_role(role_id) for role_id, r in self._records.items()),
            key=lambda role: _name_key(role.name),
        )
        return [*BUILTIN_ROLES.values(), *custom]

    def create(self, actor: Role, record: RoleRecord) -> Role:
        if len(self._records) >= MAX_CUSTOM_ROLES:
            raise LimitReached(f"a system holds at most {MAX_CUSTOM_ROLES} custom roles")
        self._check_name_free(record.name, except_id=None)
        self._check_may_manage(actor, record.to_role(""))
        role_id = uuid.uuid4().hex
        self._records.insert(role_id, record)
        return record.to_role(role_id)

    def update(self, actor: Role, role_id: str, fields: Mapping[str, Any]) -> tuple[Role, Role]:
        """Change a custom role; returns the role before and after."""
        before = self._require_custom(role_id)
        self._check_may_manage(actor, before)
        record = self._records.get(role_id)
        if record is None:
            raise NotFound(f"there is no role {role_id!r}")
        after = RoleRecord.model_validate({**record.model_dump(), **fields}).to_role(role_id)
        self._check_may_manage(actor, after)
        if "name" in fields:
            self._check_name_free(fields["name"], except_id=role_id)
        self._records.update(role_id, fields)
        return before, after

    def delete(self, actor: Role, role_id: str, users_with_role: int) -> Role:
        role = self._require_custom(role_id)
        self._check_may_manage(actor, role)
        if users_with_role:
            raise Conflict(
                f"role {role.name!r} is given to {users_with_role} user(s); "
                "give them another role first"
            )
        self._records.delete(role_id)
        return role

    def _require_custom(self, role_id: str) -> Role:
        role = self.require(role_id)
        if role.builtin:
            raise Forbidden(f"the built-in role {role.name!r} cannot be changed or deleted")
        return role

    def _check_name_free(self, name: str, except_id: str | None) -> None:
        key = _name_key(name)
        taken = {_name_key(r.name) for r in BUILTIN_ROLES.values()} | {
            _name_key(r.name) for role_id, r in self._records.items() if role_id != except_id
        }
        if key in taken:
            raise Conflict(f"a role named {name!r} exists already", field="name")

    @staticmethod
    def _check_may_manage(actor: Role, role: Role) -> None:
        if not may_manage(actor, role):
            raise Forbidden(
                "only the owner manages roles with every right of an administrator"
                if role.rights.covers(FULL_RIGHTS)
                else "you cannot manage a role with rights you do not have yourself"
            )


def may_manage(actor: Role, target: Role) -> bool:
    """Whether a user with role `actor` may create, change or delete users of role `target`.

    Nobody manages the owner; only the owner manages administrators (and roles with all their
    rights); others manage only roles whose rights they hold themselves, so no one can raise
    anyone above their own rights.
    """
    if target.id == OWNER:
        return False
    if target.id == ADMINISTRATOR or target.rights.covers(FULL_RIGHTS):
        # A custom role with every right is an administrator by another name.
        return actor.id == OWNER
    return actor.rights.covers(target.rights)
