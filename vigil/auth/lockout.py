"""Lock-out after repeated wrong passwords: more than 6 within 30 minutes lock the account for
30 minutes.

Counting is local to each server and kept in its database, so a restart does not reset it;
only the resulting lock is written to the system document, where every server sees it.
"""

from vigil.auth import store
from vigil.auth.users import User, UserService
from vigil.clock import Clock
from vigil.state import Database, SystemDocument

MAX_FAILURES = 6
LOCK_MS = 30 * 60 * 1000


class Lockout:
    def __init__(
        self, db: Database, document: SystemDocument, users: UserService, clock: Clock
    ) -> None:
        self._db = db
        self._document = document
        self._users = users
        self._clock = clock

    def locked_until_ms(self, user: User) -> int | None:
        """When the user's lock ends, or None if the account is not locked now."""
        until = user.record.locked_until_ms
        return until if until > self._clock.now_ms() else None

    async def failed(self, user: User) -> int | None:
        """Count a wrong password; lock the account when it is one too many.

        Returns when the new lock ends, or None if the account is not locked by this failure.
        """
        now = self._clock.now_ms()
        count = await self._db.run(
            lambda conn: store.count_failure(conn, user.id, now, window_ms=LOCK_MS)
        )
        if count <= MAX_FAILURES:
            return None
        until = now + LOCK_MS
        async with self._document.change():
            if self._users.get(user.id) is None:  # deleted while its password was checked
                return None
            self._users.set_lock(user.id, until)
        await self.forget_failures(user)
        return until

    async def forget_failures(self, user: User) -> None:
        await self._db.run(lambda conn: store.clear_failures(conn, user.id))

    def unlock(self, user: User) -> None:
        """Lift a lock early (an administrator's decision), inside the caller's change."""
        self._users.set_lock(user.id, 0)
