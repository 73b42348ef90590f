"""Login sessions: issued, checked on every request, ended by logout, expiry or user change.

A session belongs to the server that issued it and is kept in that server's database (only a
hash of its token), so sessions survive a restart of the server. The table is mirrored in
memory: checking a session on a request is a dictionary look-up, not a query.

A session ends when it has not been used for `IDLE_MS`, `MAX_AGE_MS` after login, at logout,
and when its user is deleted, disabled or given a new password (the user's `session_epoch`
moves on, which every server of the system sees in the replicated document).
"""

import hashlib
import secrets
from dataclasses import dataclass, replace

from vigil.auth import store
from vigil.auth.store import SessionRow
from vigil.auth.users import User, UserService
from vigil.clock import Clock
from vigil.state import Database

IDLE_MS = 12 * 3600 * 1000
MAX_AGE_MS = 7 * 24 * 3600 * 1000
# Last-use times are written back at most this often per session, not on every request.
TOUCH_EVERY_MS = 60 * 1000


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class ActiveSession:
    id: str
    user: User


class Sessions:
    def __init__(self, db: Database, users: UserService, clock: Clock) -> None:
        self._db = db
        self._users = users
        self._clock = clock
        self._rows: dict[str, SessionRow] = {}

    async def open(self) -> None:
        rows = await self._db.run(store.load_sessions)
        self._rows = {row.id: row for row in rows}
        stale = [row.id for row in rows if self._expired(row)]
        await self._forget(stale)

    async def create(self, user: User, address: str) -> tuple[str, ActiveSession]:
        token = secrets.token_urlsafe(32)
        now = self._clock.now_ms()
        row = SessionRow(
            id=_session_id(token),
            user_id=user.id,
            epoch=user.record.session_epoch,
            created_ms=now,
            last_used_ms=now,
            address=address,
        )
        await self._db.run(lambda conn: store.insert_session(conn, row))
        self._rows[row.id] = row
        return token, ActiveSession(id=row.id, user=user)

    async def resolve(self, token: str) -> ActiveSession | None:
        """The live session that `token` opens, or None; a dead session is forgotten."""
        row = self._rows.get(_session_id(token))
        if row is None:
            return None
        user = self._user_of(row)
        if user is None:
            await self._forget([row.id])
            return None
        now = self._clock.now_ms()
        if now - row.last_used_ms >= TOUCH_EVERY_MS:
            self._rows[row.id] = replace(row, last_used_ms=now)
            await self._db.run(lambda conn: store.touch_session(conn, row.id, now))
        return ActiveSession(id=row.id, user=user)

    def alive(self, session_id: str) -> bool:
        """Whether a session resolved before is still valid, without using it (a long-lived
        connection asks this now and then: its session may end while it is open)."""
        row = self._rows.get(session_id)
        return row is not None and self._user_of(row) is not None

    def _user_of(self, row: SessionRow) -> User | None:
        """The session's user while the session is valid."""
        user = self._users.get(row.user_id)
        if (
            user is None
            or not user.record.enabled
            or user.record.session_epoch != row.epoch
            or self._expired(row)
        ):
            return None
        return user

    async def end(self, session_id: str) -> None:
        await self._forget([session_id])

    async def end_all_of(self, user_id: str) -> None:
        await self._forget([row.id for row in self._rows.values() if row.user_id == user_id])

    async def end_all(self) -> None:
        """Every session of this server (its system is gone)."""
        await self._forget(list(self._rows))

    def count(self) -> int:
        return len(self._rows)

    def _expired(self, row: SessionRow) -> bool:
        now = self._clock.now_ms()
        return now - row.last_used_ms >= IDLE_MS or now - row.created_ms >= MAX_AGE_MS

    async def _forget(self, session_ids: list[str]) -> None:
        if not session_ids:
            return
        for session_id in session_ids:
            self._rows.pop(session_id, None)
        await self._db.run(lambda conn: store.delete_sessions(conn, session_ids))
