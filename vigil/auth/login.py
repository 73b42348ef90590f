"""Logging in and out: password check, lock-out, session, audit — in that order."""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from vigil.auth.audit import Actor, AuditTrail
from vigil.auth.lockout import Lockout
from vigil.auth.passwords import Passwords
from vigil.auth.sessions import ActiveSession, Sessions
from vigil.auth.throttle import LoginThrottle
from vigil.auth.users import User, UserService
from vigil.errors import AccountLocked, Forbidden, TooManyAttempts, Unauthenticated
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
        throttle: LoginThrottle,
        sessions: Sessions,
        audit: AuditTrail,
    ) -> None:
        self._document = document
        self._users = users
        self._passwords = passwords
        self._lockout = lockout
        self._throttle = throttle
        self._sessions = sessions
        self._audit = audit

    async def login(
        self, name: str, password: str, address: str, *, via: str | None = None
    ) -> tuple[str, ActiveSession]:
        """`via` names the way in when it is not the HTTP API (`rtsp`): the audit trail's
        entries of this login say it, so a player's logins are told from a person's."""
        user = await self.check(name, password, address, via=via)
        if self._passwords.needs_rehash(user.record.password_hash):
            new_hash = await self._passwords.hash(password)
            async with self._document.change():
                self._users.set_password_hash(user.id, new_hash)
        token, session = await self._sessions.create(user, address)
        await self._recorder(via)(Actor(user.id, user.record.name, address), "login", {})
        return token, session

    async def check(self, name: str, password: str, address: str, *, via: str | None) -> User:
        """The user whose credentials these are, counted against the throttle and lock-out
        like a login (a failure is in the audit trail); for a login, or to approve what needs
        them. A name that is no user's goes the same way, to the same answers."""
        wait_ms = self._throttle.wait_ms(address)
        if wait_ms:  # nothing is checked, so an attacker learns nothing and costs no hash
            retry_after_s = -(-wait_ms // 1000)
            raise TooManyAttempts(
                f"too many wrong passwords from your address: try again in {retry_after_s} s",
                retry_after_s=retry_after_s,
            )
        record = self._recorder(via)
        user = self._users.find_by_name(name)
        if user is None:
            await self._unknown(name, password, address, record)
        actor = Actor(user.id, user.record.name, address)
        locked_until = self._lockout.locked_until_ms(user, address)
        if locked_until is not None:
            await record(actor, "login.failed", {"reason": "locked"})
            raise _locked(locked_until)
        matches = await self._passwords.verify(user.record.password_hash, password)
        # Look again after the wait: guesses sent together all reach this point, and once one
        # of them locked the account, none may get in, the right password included.
        locked_until = self._lockout.locked_until_ms(self._users.get(user.id) or user, address)
        if locked_until is not None:
            await record(actor, "login.failed", {"reason": "locked"})
            raise _locked(locked_until)
        if not matches:
            self._throttle.failed(address)
            locked_until = await self._lockout.failed(user, address)
            await record(actor, "login.failed", {"reason": "wrong password"})
            if locked_until is not None:
                details = {"locked_until_ms": locked_until, "address": address}
                await self._audit.record(actor, "user.lock", target=user.id, details=details)
                raise _locked(locked_until)
            raise Unauthenticated(WRONG_CREDENTIALS)
        if not user.record.enabled:
            await record(actor, "login.failed", {"reason": "disabled"})
            raise Forbidden("this account is disabled; ask an administrator")
        await self._lockout.forget_failures(user, address)
        self._throttle.succeeded(address)
        return user

    async def _unknown(
        self,
        name: str,
        password: str,
        address: str,
        record: Callable[[Actor, str, dict[str, Any]], Awaitable[None]],
    ) -> NoReturn:
        """A name that is no user's: the steps and answers of a wrong password."""
        actor = Actor(None, name, address)
        locked_until = await self._lockout.name_locked_until_ms(name, address)
        if locked_until is not None:
            await record(actor, "login.failed", {"reason": "locked"})
            raise _locked(locked_until)
        await self._passwords.verify(None, password)
        self._throttle.failed(address)
        locked_until = await self._lockout.failed_name(name, address)
        await record(actor, "login.failed", {"reason": "unknown user"})
        if locked_until is not None:
            raise _locked(locked_until)
        raise Unauthenticated(WRONG_CREDENTIALS)

    async def logout(self, session: ActiveSession, address: str, *, via: str | None = None) -> None:
        await self._sessions.end(session.id)
        actor = Actor(session.user.id, session.user.record.name, address)
        await self._recorder(via)(actor, "logout", {})

    def _recorder(self, via: str | None) -> Callable[[Actor, str, dict[str, Any]], Awaitable[None]]:
        """Records an entry of one login, its details with `via` added when given."""

        async def record(actor: Actor, action: str, details: dict[str, Any]) -> None:
            if via is not None:
                details = {**details, "via": via}
            await self._audit.record(actor, action, details=details or None)

        return record
