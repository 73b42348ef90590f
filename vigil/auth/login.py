"""Logging in and out: password check, lock-out, session, audit — in that order."""

import logging
from datetime import UTC, datetime

from vigil.auth.audit import Actor, AuditTrail
from vigil.auth.lockout import Lockout
from vigil.auth.passwords import Passwords
from vigil.auth.sessions import ActiveSession, Sessions
from vigil.auth.users import UserService
from vigil.errors import AccountLocked, Forbidden, Unauthenticated
from vigil.state import SystemDocument

logger = logging.getLogger(__name__)

# One message whether the name or the password was wrong, so names cannot be probed.
WRONG_CREDENTIALS = "wrong user name or password"


def _locked(until_ms: int) -> AccountLocked:
    when = datetime.fromtimestamp(until_ms / 1000, UTC).isoformat(timespec="seconds")
    return AccountLocked(
        f"too many wrong passwords: the account is locked until {when}",
        locked_until_ms=until_ms,
    )


class LoginService:
    def __init__(
        self,
        *,
        document: SystemDocument,
        users: UserService,
        passwords: Passwords,
        lockout: Lockout,
        sessions: Sessions,
        audit: AuditTrail,
    ) -> None:
        self._document = document
        self._users = users
        self._passwords = passwords
        self._lockout = lockout
        self._sessions = sessions
        self._audit = audit

    async def login(self, name: str, password: str, address: str) -> tuple[str, ActiveSession]:
        user = self._users.find_by_name(name)
        if user is None:
            await self._passwords.verify(None, password)
            await self._audit.record(
                Actor(None, name, address), "login.failed", details={"reason": "unknown user"}
            )
            raise Unauthenticated(WRONG_CREDENTIALS)
        actor = Actor(user.id, user.record.name, address)
        locked_until = self._lockout.locked_until_ms(user)
        if locked_until is not None:
            await self._audit.record(actor, "login.failed", details={"reason": "locked"})
            raise _locked(locked_until)
        matches = await self._passwords.verify(user.record.password_hash, password)
        # Look again after the wait: guesses sent together all reach this point, and once one
        # of them locked the account, none may get in, the right password included.
        locked_until = self._lockout.locked_until_ms(self._users.get(user.id) or user)
        if locked_until is not None:
            await self._audit.record(actor, "login.failed", details={"reason": "locked"})
            raise _locked(locked_until)
        if not matches:
            locked_until = await self._lockout.failed(user)
            await self._audit.record(actor, "login.failed", details={"reason": "wrong password"})
            if locked_until is not None:
                await self._audit.record(
                    actor, "user.lock", target=user.id, details={"locked_until_ms": locked_until}
                )
                raise _locked(locked_until)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not user.record.enabled:
            await self._audit.record(actor, "login.failed", details={"reason": "disabled"})
            raise Forbidden("this account is disabled; ask an administrator")
        await self._lockout.forget_failures(user)
        if self._passwords.needs_rehash(user.record.password_hash):
            new_hash = await self._passwords.hash(password)
            async with self._document.change():
                self._users.set_password_hash(user.id, new_hash)
        token, session = await self._sessions.create(user, address)
        await self._audit.record(actor, "login")
        return token, session

    async def logout(self, session: ActiveSession, address: str) -> None:
        await self._sessions.end(session.id)
        await self._audit.record(
            Actor(session.user.id, session.user.record.name, address), "logout"
        )
