"""The replicated system document: a pycrdt (Yrs) document persisted as its update log.

Every write happens inside `change()`: changes run one at a time, all writes of one change form
one update, and that update is appended to the `document_updates` table before the change is
acknowledged. A change that raises, or whose update cannot be saved, is undone by rebuilding
the document from the log on disk, so a failed request leaves nothing behind and the server
never answers from state that a restart would lose. On start the log is replayed; when it grows
long it is compacted into one update holding the whole state. See docs/design/state.md.
"""

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from pycrdt import Doc, Map, Subscription, TransactionEvent

from vigil.errors import StorageFailure
from vigil.state.database import Database, Migration

logger = logging.getLogger(__name__)

MIGRATIONS = [
    Migration(
        "update log of the system document",
        "CREATE TABLE document_updates ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " data BLOB NOT NULL)",
    ),
]


def _load_updates(conn: sqlite3.Connection) -> list[bytes]:
    return [row[0] for row in conn.execute("SELECT data FROM document_updates ORDER BY seq")]


def _append_updates(conn: sqlite3.Connection, updates: list[bytes]) -> int:
    conn.executemany("INSERT INTO document_updates (data) VALUES (?)", [(u,) for u in updates])
    count: int = conn.execute("SELECT count(*) FROM document_updates").fetchone()[0]
    return count


def _replace_log(conn: sqlite3.Connection, whole_state: bytes) -> None:
    conn.execute("DELETE FROM document_updates")
    conn.execute("INSERT INTO document_updates (data) VALUES (?)", (whole_state,))


class SystemDocument:
    def __init__(self, db: Database, *, compact_after: int = 500) -> None:
        self._db = db
        self._compact_after = compact_after
        self._doc: Doc[Any] = Doc()
        self._pending: list[bytes] = []
        self._changing = asyncio.Lock()
        # Change counters per top-level map, so typed views can cache what they decoded. The
        # subscriptions are kept: pycrdt stops calling an observer whose subscription is lost.
        self._generation = 0
        self._root_changes: dict[str, int] = {}
        self._subscriptions: list[Subscription] = []
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each change is saved (a local write or a peer's). It runs on
        the event loop inside the change's caller: keep it to scheduling work."""
        self._listeners.append(listener)

    async def open(self) -> None:
        await self._db.migrate("document", MIGRATIONS)
        self._replace_doc(await self._db.run(_load_updates))

    def root(self, name: str) -> Map[Any]:
        """A top-level map of the document (one per kind of record)."""
        root: Map[Any] = self._doc.get(name, type=Map)
        if name not in self._root_changes:
            self._root_changes[name] = 0
            self._subscriptions.append(root.observe_deep(lambda _: self._count_change(name)))
        return root

    def version(self, name: str) -> tuple[int, int]:
        """Changes whenever the top-level map `name` changes, by a local write or a peer's."""
        self.root(name)
        return self._generation, self._root_changes[name]

    def _count_change(self, name: str) -> None:
        self._root_changes[name] += 1

    @asynccontextmanager
    async def change(self) -> AsyncIterator[None]:
        """One change of the system state, saved whole or not at all.

        Do slow work (password hashing, I/O) before entering: changes wait for each other.
        Raises StorageFailure when the change could not be saved (it is then undone).
        """
        async with self._changing:
            try:
                with self._doc.transaction():
                    yield
            except BaseException:
                await self._reload()
                raise
            await self._persist()
        for listener in self._listeners:
            listener()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one update; inside `change()` they are grouped already."""
        with self._doc.transaction():
            yield

    def state_vector(self) -> bytes:
        """What this copy has seen, for a peer to compute what it is missing."""
        return self._doc.get_state()

    def updates_since(self, state_vector: bytes | None = None) -> bytes:
        """One update with everything a peer at `state_vector` lacks (all if None)."""
        return self._doc.get_update(state_vector)

    def apply_update(self, update: bytes) -> None:
        """Merge a peer's update; call it inside `change()` so that it is saved."""
        self._doc.apply_update(update)

    async def _persist(self) -> None:
        if not self._pending:
            return
        updates = self._pending
        try:
            count = await self._db.transaction(lambda conn: _append_updates(conn, updates))
        except (sqlite3.Error, OSError) as err:
            logger.exception("saving the system document failed; undoing the change")
            await self._reload()
            raise StorageFailure("the change could not be saved; nothing was changed") from err
        self._pending = []
        if count > self._compact_after:
            await self._compact()

    async def _reload(self) -> None:
        self._replace_doc(await self._db.run(_load_updates))

    async def _compact(self) -> None:
        whole_state = self._doc.get_update()
        try:
            await self._db.transaction(lambda conn: _replace_log(conn, whole_state))
        except (sqlite3.Error, OSError):
            # The change itself is saved; the longer log is only slower to load. Next time.
            logger.exception("compacting the system document failed")
            return
        logger.info("compacted the system document", extra={"bytes": len(whole_state)})

    def _replace_doc(self, updates: list[bytes]) -> None:
        doc: Doc[Any] = Doc()
        for update in updates:
            doc.apply_update(update)
        self._subscriptions = [doc.observe(self._on_update)]
        self._doc = doc
        self._pending = []
        self._generation += 1
        self._root_changes.clear()

    def _on_update(self, event: TransactionEvent) -> None:
        self._pending.append(event.update)
