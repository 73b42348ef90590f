"""The replicated system document: a pycrdt (Yrs) document persisted as its update log.

Every write to the document produces a binary update; `commit()` appends the pending updates to
the `document_updates` table before the change is acknowledged. On start the log is replayed.
When the log grows long it is compacted into one update holding the whole state.

If persisting fails the in-memory document is rebuilt from the log, so the server never answers
from state that a restart would lose. See docs/design/state.md.
"""

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pycrdt import Doc, Map, TransactionEvent

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
        # Change counters per top-level map, so typed views can cache what they decoded.
        self._generation = 0
        self._root_changes: dict[str, int] = {}

    async def open(self) -> None:
        await self._db.migrate("document", MIGRATIONS)
        self._replace_doc(await self._db.run(_load_updates))

    def root(self, name: str) -> Map[Any]:
        """A top-level map of the document (one per kind of record)."""
        root: Map[Any] = self._doc.get(name, type=Map)
        if name not in self._root_changes:
            self._root_changes[name] = 0
            root.observe_deep(lambda _events: self._count_change(name))
        return root

    def version(self, name: str) -> tuple[int, int]:
        """Changes whenever the top-level map `name` changes, by a local write or a peer's."""
        self.root(name)
        return self._generation, self._root_changes[name]

    def _count_change(self, name: str) -> None:
        self._root_changes[name] += 1

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one update (they replicate and persist together)."""
        with self._doc.transaction():
            yield

    def state_vector(self) -> bytes:
        """What this copy has seen, for a peer to compute what it is missing."""
        return self._doc.get_state()

    def updates_since(self, state_vector: bytes | None = None) -> bytes:
        """One update with everything a peer at `state_vector` lacks (all if None)."""
        return self._doc.get_update(state_vector)

    def apply_update(self, update: bytes) -> None:
        """Merge a peer's update; like a local write it is persisted by the next commit."""
        self._doc.apply_update(update)

    async def commit(self) -> None:
        """Persist every write made since the last commit; raise StorageFailure if it fails."""
        if not self._pending:
            return
        updates, self._pending = self._pending, []
        try:
            count = await self._db.transaction(lambda conn: _append_updates(conn, updates))
        except (sqlite3.Error, OSError) as err:
            logger.exception("persisting the system document failed; reloading it from disk")
            self._replace_doc(await self._db.run(_load_updates))
            raise StorageFailure("the change could not be saved; nothing was changed") from err
        if count > self._compact_after:
            await self._compact()

    async def _compact(self) -> None:
        whole_state = self._doc.get_update()
        await self._db.transaction(lambda conn: _replace_log(conn, whole_state))
        logger.info("compacted the system document", extra={"bytes": len(whole_state)})

    def _replace_doc(self, updates: list[bytes]) -> None:
        doc: Doc[Any] = Doc()
        for update in updates:
            doc.apply_update(update)
        doc.observe(self._on_update)
        self._doc = doc
        self._pending = []
        self._generation += 1
        self._root_changes.clear()

    def _on_update(self, event: TransactionEvent) -> None:
        self._pending.append(event.update)
