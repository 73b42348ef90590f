"""Users of the system, kept in the system document, and the rules for changing them."""

import unicodedata
import uuid
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from vigil.auth.roles import ADMINISTRATOR, FULL_RIGHTS, OWNER, Role, RoleService, may_manage
from vigil.clock import Clock
from vigil.errors import Conflict, Forbidden, LimitReached, NotFound
from vigil.state import Collection

MAX_USERS = 100
MAX_LOCKS = 64  # addresses an account is locked from at once


class UserRecord(BaseModel):
    """A user as stored in the system document (replicated to every server)."""

    model_config = ConfigDict(frozen=True)

    name: str
    full_name: str = ""
    email: str = ""
    role_id: str
    enabled: bool = True
    password_hash: str
    # Bumped whenever the user's existing sessions must end (password changed, disabled):
    # a session is valid only while its epoch equals the user's, on every server.
    session_epoch: int = 0
    # Locks after wrong passwords, each of the account from one address: address → until (ms).
    locks: dict[str, int] = {}
    created_ms: int


class User(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    record: UserRecord


def name_key(name: str) -> str:
    """User names are unique and matched ignoring case and Unicode normal form."""
    return unicodedata.normalize("NFC", name).casefold()


class UserService:
    def __init__(self, records: Collection[UserRecord], roles: RoleService, clock: Clock) -> None:
        self._records = records
        self._roles = roles
        self._clock = clock

    def get(self, user_id: str) -> User | None:
        record = self._records.get(user_id)
        return User(id=user_id, record=record) if record else None

    def require(self, user_id: str) -> User:
        user = self.get(user_id)
        if user is None:
            raise NotFound(f"there is no user {user_id!r}")
        return user

    def find_by_name(self, name: str) -> User | None:
        key = name_key(name)
        for user_id, record in self._records.items():
            if name_key(record.name) == key:
                return User(id=user_id, record=record)
        return None

    def all(self) -> list[User]:
        users = [User(id=i, record=r) for i, r in self._records.items()]
        return sorted(users, key=lambda u: name_key(u.record.name))

    def count_with_role(self, role_id: str) -> int:
        return sum(1 for record in self._records.all() if record.role_id == role_id)

    def role_of(self, user: User) -> Role:
        return self._roles.require(user.record.role_id)

    def create_owner(self, name: str, password_hash: str) -> User:
        """The one owner, made with the system; the caller commits the document."""
        if any(r.role_id == OWNER for r in self._records.all()):
            raise Conflict("the system has its owner already")
        return self._insert(name=name, role_id=OWNER, password_hash=password_hash)

    def create(
        self, actor: Role, *, name: str, role_id: str, password_hash: str, **fields: Any
    ) -> User:
        role = self._roles.require(role_id, field="role_id")
        if role.id == OWNER:
            raise Forbidden("there is exactly one owner; another cannot be made", field="role_id")
        self._check_may_manage(actor, role)
        if len(self._records) >= MAX_USERS:
            raise LimitReached(f"a system holds at most {MAX_USERS} users")
        return self._insert(name=name, role_id=role_id, password_hash=password_hash, **fields)

    def _insert(self, *, name: str, role_id: str, password_hash: str, **fields: Any) -> User:
        self._check_name_free(name, except_id=None)
        record = UserRecord(
            name=name,
            role_id=role_id,
            password_hash=password_hash,
            created_ms=self._clock.now_ms(),
            **fields,
        )
        user_id = uuid.uuid4().hex
        self._records.insert(user_id, record)
        return User(id=user_id, record=record)

    def update(self, actor: User, target_id: str, fields: Mapping[str, Any]) -> tuple[User, User]:
        """Change a user; returns the user before and after. The caller commits."""
        before = self.require(target_id)
        actor_role = self.role_of(actor)
        self._check_may_change(actor, actor_role, before, fields)
        changes = dict(fields)
        if "name" in changes:
            self._check_name_free(changes["name"], except_id=target_id)
        if "role_id" in changes:
            new_role = self._roles.require(changes["role_id"], field="role_id")
            if new_role.id == OWNER:
                raise Forbidden(
                    "there is exactly one owner; the role cannot be given", field="role_id"
                )
            self._check_may_manage(actor_role, new_role)
        if changes.get("enabled") is False or "password_hash" in changes:
            changes["session_epoch"] = before.record.session_epoch + 1
        self._records.update(target_id, changes)
        return before, self.require(target_id)

    def delete(self, actor: User, target_id: str) -> User:
        target = self.require(target_id)
        if target.record.role_id == OWNER:
            raise Forbidden("the owner cannot be deleted")
        if target.id == actor.id:
            raise Forbidden("you cannot delete your own account")
        self._check_may_manage(self.role_of(actor), self.role_of(target))
        self._records.delete(target_id)
        return target

    def set_lock(self, user_id: str, address: str, until_ms: int, now_ms: int) -> None:
        """Lock the account from `address` until `until_ms`; locks that ended are dropped, and
        past `MAX_LOCKS` the ones ending first (the document holds no address without end)."""
        locks = {a: u for a, u in self.require(user_id).record.locks.items() if u > now_ms}
        locks[address] = until_ms
        kept = sorted(locks.items(), key=lambda lock: lock[1])[-MAX_LOCKS:]
        self._records.update(user_id, {"locks": dict(kept)})

    def clear_locks(self, user_id: str) -> None:
        self._records.update(user_id, {"locks": {}})

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace a hash by one with the current parameters; sessions stay valid."""
        self._records.update(user_id, {"password_hash": password_hash})

    def _check_may_change(
        self, actor: User, actor_role: Role, target: User, fields: Mapping[str, Any]
    ) -> None:
        if target.id == actor.id:
            if "role_id" in fields:
                raise Forbidden("you cannot change your own role", field="role_id")
            if fields.get("enabled") is False:
                raise Forbidden("you cannot disable your own account", field="enabled")
            return
        target_role = self.role_of(target)
        if target_role.id == OWNER:
            raise Forbidden("only the owner changes the owner's account")
        if target_role.id == ADMINISTRATOR and actor_role.id != OWNER:
            raise Forbidden("only the owner changes administrators")
        self._check_may_manage(actor_role, target_role)

    @staticmethod
    def _check_may_manage(actor: Role, role: Role) -> None:
        if not may_manage(actor, role):
            if role.id == ADMINISTRATOR or role.rights.covers(FULL_RIGHTS):
                raise Forbidden("only the owner manages administrators", field="role_id")
            raise Forbidden(
                f"you cannot manage users of role {role.name!r}: it has rights you do not have",
                field="role_id",
            )

    def _check_name_free(self, name: str, except_id: str | None) -> None:
        existing = self.find_by_name(name)
        if existing is not None and existing.id != except_id:
            raise Conflict(f"a user named {name!r} exists already", field="name")


def validate_password(password: str) -> str:
    """Password policy: 8 to 256 characters, not only white space (ValueError otherwise)."""
    if not password.strip():
        raise ValueError("the password must not be empty or only white space")
    if len(password) < 8:
        raise ValueError("the password must have at least 8 characters")
    if len(password) > 256:
        raise ValueError("the password must have at most 256 characters")
    return password
