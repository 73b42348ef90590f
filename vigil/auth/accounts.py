"""User and role management as a whole: rule checks, password hashing, document commit,
ending sessions and the audit trail, so that each API handler is one call."""

from typing import Any

from vigil.auth.audit import Actor, AuditTrail, audit_changes
from vigil.auth.lockout import Lockout
from vigil.auth.passwords import Passwords
from vigil.auth.roles import Role, RoleRecord, RoleService
from vigil.auth.sessions import Sessions
from vigil.auth.users import User, UserService
from vigil.errors import Forbidden, Unauthenticated
from vigil.state import SystemDocument

# Fields never shown, not even in the audit trail.
_SECRET_FIELDS = frozenset({"password_hash"})


class Accounts:
    def __init__(
        self,
        *,
        document: SystemDocument,
        users: UserService,
        roles: RoleService,
        passwords: Passwords,
        lockout: Lockout,
        sessions: Sessions,
        audit: AuditTrail,
    ) -> None:
        self._document = document
        self._users = users
        self._roles = roles
        self._passwords = passwords
        self._lockout = lockout
        self._sessions = sessions
        self._audit = audit

    async def create_user(self, actor: User, address: str, *, password: str, **fields: Any) -> User:
        password_hash = await self._passwords.hash(password)
        async with self._document.change():
            user = self._users.create(
                self._users.role_of(actor), password_hash=password_hash, **fields
            )
        await self._audit.record(
            _actor(actor, address),
            "user.create",
            target=user.id,
            details={"after": _public(user)},
        )
        return user

    async def update_user(
        self, actor: User, address: str, user_id: str, fields: dict[str, Any]
    ) -> User:
        changes = dict(fields)
        if "password" in changes:
            if user_id == actor.id:
                raise Forbidden(
                    "change your own password with PUT /api/v1/me/password", field="password"
                )
            changes["password_hash"] = await self._passwords.hash(changes.pop("password"))
        unlock = changes.pop("locked", None) is False
        async with self._document.change():
            before, after = self._users.update(actor, user_id, changes)
            if unlock:
                self._lockout.unlock(after)
        after = self._users.require(user_id)
        if unlock:
            await self._lockout.forget_failures(after)
        if after.record.session_epoch != before.record.session_epoch:
            await self._sessions.end_all_of(user_id)
        await self._audit.record(
            _actor(actor, address),
            "user.edit",
            target=user_id,
            details=audit_changes(
                before.record.model_dump(), after.record.model_dump(), _SECRET_FIELDS
            ),
        )
        return after

    async def delete_user(self, actor: User, address: str, user_id: str) -> None:
        async with self._document.change():
            user = self._users.delete(actor, user_id)
        await self._sessions.end_all_of(user_id)
        await self._audit.record(
            _actor(actor, address), "user.delete", target=user_id, details={"before": _public(user)}
        )

    async def change_own_password(self, user: User, address: str, current: str, new: str) -> None:
        if not await self._passwords.verify(user.record.password_hash, current):
            raise Unauthenticated("the current password is wrong", field="current_password")
        new_hash = await self._passwords.hash(new)
        async with self._document.change():
            self._users.update(user, user.id, {"password_hash": new_hash})
        await self._sessions.end_all_of(user.id)
        await self._audit.record(_actor(user, address), "user.password", target=user.id)

    async def create_role(self, actor: User, address: str, record: RoleRecord) -> Role:
        async with self._document.change():
            role = self._roles.create(self._users.role_of(actor), record)
        await self._audit.record(
            _actor(actor, address),
            "role.create",
            target=role.id,
            details={"after": role.model_dump(mode="json")},
        )
        return role

    async def update_role(
        self, actor: User, address: str, role_id: str, fields: dict[str, Any]
    ) -> Role:
        async with self._document.change():
            before, after = self._roles.update(self._users.role_of(actor), role_id, fields)
        await self._audit.record(
            _actor(actor, address),
            "role.edit",
            target=role_id,
            details=audit_changes(
                before.model_dump(mode="json"), after.model_dump(mode="json"), _SECRET_FIELDS
            ),
        )
        return after

    async def delete_role(self, actor: User, address: str, role_id: str) -> None:
        async with self._document.change():
            role = self._roles.delete(
                self._users.role_of(actor), role_id, self._users.count_with_role(role_id)
            )
        await self._audit.record(
            _actor(actor, address),
            "role.delete",
            target=role_id,
            details={"before": role.model_dump(mode="json")},
        )


def _actor(user: User, address: str) -> Actor:
    return Actor(user.id, user.record.name, address)


def _public(user: User) -> dict[str, Any]:
    return user.record.model_dump(exclude=set(_SECRET_FIELDS))
