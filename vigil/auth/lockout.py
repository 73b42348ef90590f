"""Lock-out after repeated wrong passwords, per address: more than 6 wrong passwords for one
account from one client address within 30 minutes lock the account from that address for 30
minutes.

The lock is of the account *from that address*: a stranger who guesses the owner's password
from the camera network locks the owner out of that address, never out of the control room's
(docs/design/security.md). A user's locks are in the system document, so every server refuses
the address; the counting is local to each server and kept in its database (a restart does
not reset it).

A name that is no user's is counted and locked the same way, in the server's database, so the
answers (401, then 423 with its time) do not tell which names exist.
"""

from vigil.auth import store
from vigil.auth.users import User, UserService
from vigil.clock import Clock
from vigil.state import Database, SystemDocument

MAX_FAILURES = 6
LOCK_MS = 30 * 60 * 1000


def name_account(name: str) -> str:
    """How a name that is no user's is counted (names are matched ignoring case)."""
    return "name:" + name.casefold()


class Lockout:
    def __init__(
        self, db: Database, document: SystemDocument, users: UserService, clock: Clock
    ) -> None:
        self._db = db
        self._document = document
        self._users = users
        self._clock = clock

    def locked_until_ms(self, user: User, address: str) -> int | None:
        """When the user's lock from `address` ends, or None if there is none now."""
        until = user.record.locks.get(address, 0)
        return until if until > self._clock.now_ms() else None

    async def name_locked_until_ms(self, name: str, address: str) -> int | None:
        """As `locked_until_ms`, for a name that is no user's."""
        account = name_account(name)
        until = await self._db.run(lambda conn: store.name_locked_until(conn, account, address))
        return until if until > self._clock.now_ms() else None

    async def failed(self, user: User, address: str) -> int | None:
        """Count a wrong password from `address`; lock the account from there when it is one
        too many. Returns when the new lock ends, or None if this failure locks nothing."""
        now = self._clock.now_ms()
        if await self._count(user.id, address, now) <= MAX_FAILURES:
            return None
        until = now + LOCK_MS
        async with self._document.change():
            if self._users.get(user.id) is None:  # deleted while its password was checked
                return None
            self._users.set_lock(user.id, address, until, now)
        await self.forget_failures(user, address)
        return until

    async def failed_name(self, name: str, address: str) -> int | None:
        """As `failed`, for a name that is no user's."""
        now = self._clock.now_ms()
        account = name_account(name)
        if await self._count(account, address, now) <= MAX_FAILURES:
            return None
        until = now + LOCK_MS
        await self._db.run(lambda conn: store.lock_name(conn, account, address, until))
        return until

    async def forget_failures(self, user: User, address: str | None = None) -> None:
        """After a right password (from `address`), or an administrator's unlock (all)."""
        await self._db.run(lambda conn: store.clear_failures(conn, user.id, address))

    def unlock(self, user: User) -> None:
        """Lift every lock of the user early (an administrator's decision), inside the
        caller's change."""
        self._users.clear_locks(user.id)

    async def _count(self, account: str, address: str, now: int) -> int:
        return await self._db.run(
            lambda conn: store.count_failure(conn, account, address, now, window_ms=LOCK_MS)
        )
