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

from pycrdt import Doc, Map, MapEvent, Subscription, TransactionEvent

from vigil.clock import Clock
from vigil.errors import StorageFailure
from vigil.state import conflicts, sealing
from vigil.state.conflicts import Overwrite, Touched
from vigil.state.database import Database, Migration

logger = logging.getLogger(__name__)

MIGRATIONS = [
    Migration(
        "update log of the system document",
        "CREATE TABLE document_updates ("
        " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        " data BLOB NOT NULL)",
    ),
    Migration(
        "the system key, which seals the document's secrets (sealing.py)",
        "CREATE TABLE document_key (key BLOB NOT NULL, singleton INTEGER PRIMARY KEY CHECK"
        " (singleton = 1))",
    ),
]


def _load_key(conn: sqlite3.Connection) -> bytes | None:
    row = conn.execute("SELECT key FROM document_key").fetchone()
    return None if row is None else bytes(row[0])


def _save_key(conn: sqlite3.Connection, key: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO document_key (key, singleton) VALUES (?, 1)", (key,))


def _load_updates(conn: sqlite3.Connection) -> list[bytes]:
    return [row[0] for row in conn.execute("SELECT data FROM document_updates ORDER BY seq")]


def _append_updates(
    conn: sqlite3.Connection, updates: list[bytes], also: Callable[[sqlite3.Connection], None]
) -> int:
    conn.executemany("INSERT INTO document_updates (data) VALUES (?)", [(u,) for u in updates])
    also(conn)
    count: int = conn.execute("SELECT count(*) FROM document_updates").fetchone()[0]
    return count


def _replace_log(conn: sqlite3.Connection, whole_state: bytes, now_ms: int) -> None:
    conn.execute("DELETE FROM document_updates")
    conn.execute("INSERT INTO document_updates (data) VALUES (?)", (whole_state,))
    conflicts.forget_old(conn, now_ms)


def _securely(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], None]) -> None:
    """`work` in one transaction whose deleted pages are overwritten, then the write-ahead
    log emptied: what it deleted is nowhere in the data folder afterwards."""
    conn.execute("PRAGMA secure_delete = ON")
    try:
        conn.execute("BEGIN IMMEDIATE")
        work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA secure_delete = OFF")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def _rewrite(conn: sqlite3.Connection, whole_state: bytes, now_ms: int) -> None:
    _replace_log(conn, whole_state, now_ms)
    conn.execute("DELETE FROM document_writes")


def _become(conn: sqlite3.Connection, whole_state: bytes, key: bytes, now_ms: int) -> None:
    _save_key(conn, key)
    _replace_log(conn, whole_state, now_ms)


def read_root(whole_state: bytes, name: str) -> dict[str, Any]:
    """A top-level map of a document that is not this server's (one offered to it), as plain
    values; raises ValueError if the bytes are not a document."""
    doc: Doc[Any] = Doc()
    try:
        doc.apply_update(whole_state)
    except Exception as err:  # pycrdt raises its own untyped errors for bad bytes
        raise ValueError("not a system document") from err
    root: dict[str, Any] = doc.get(name, type=Map).to_py() or {}
    return root


def _erase(conn: sqlite3.Connection) -> None:
    for table in ("document_updates", "document_writes", "document_conflicts", "document_key"):
        conn.execute(f"DELETE FROM {table}")  # noqa: S608  (our own table names)


class SystemDocument:
    def __init__(self, db: Database, clock: Clock, *, compact_after: int = 500) -> None:
        self._db = db
        self._clock = clock
        self._compact_after = compact_after
        self._doc: Doc[Any] = Doc()
        self._pending: list[bytes] = []
        self._key: bytes | None = None
        self._changing = asyncio.Lock()
        # Change counters per top-level map, so typed views can cache what they decoded. The
        # subscriptions are kept: pycrdt stops calling an observer whose subscription is lost;
        # and ended by hand when the document is replaced: the Rust side holds each observer,
        # which holds its document, a cycle the collector cannot see (each replaced document
        # stayed in memory for good).
        self._generation = 0
        self._root_changes: dict[str, int] = {}
        self._subscriptions: list[tuple[Doc[Any] | Map[Any], Subscription]] = []
        self._listeners: list[Callable[[], None]] = []
        self._update_listeners: list[Callable[[bytes], None]] = []
        # What the running change did to the roots observed (conflicts.py).
        self._touched: list[Touched] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call `listener` after each change is saved (a local write or a peer's). It runs on
        the event loop inside the change's caller: keep it to scheduling work."""
        self._listeners.append(listener)

    def on_update(self, listener: Callable[[bytes], None]) -> None:
        """Call `listener` with the update of each local change once it is saved (not with a
        peer's merged update): what the peers are sent."""
        self._update_listeners.append(listener)

    async def open(self) -> None:
        await self._db.migrate("document", MIGRATIONS)
        await self._db.migrate("document_conflicts", conflicts.MIGRATIONS)
        self._replace_doc(await self._db.run(_load_updates))
        self._key = await self._db.run(_load_key)

    @property
    def key(self) -> bytes | None:
        """The system key (None on an undefined server); to hand to a joining server."""
        return self._key

    async def make_key(self) -> None:
        """A system key for a new system (or one made before sealing), unless there is one."""
        if self._key is None:
            key = sealing.new_key()
            await self._db.run(lambda conn: _save_key(conn, key))
            self._key = key

    def seal(self, plain: str, context: str) -> str:
        if self._key is None:
            raise RuntimeError("a secret written without a system key")
        return sealing.seal(self._key, plain, context)

    def unseal(self, stored: str, context: str) -> str:
        """The secret; "" (and a warning) for one that cannot be opened here, so a camera asks
        for its password again rather than the server failing."""
        try:
            return sealing.unseal(self._key, stored, context)
        except sealing.Unopenable as err:
            logger.warning(
                "a secret cannot be opened", extra={"where": context, "reason": str(err)}
            )
            return ""

    def root(self, name: str) -> Map[Any]:
        """A top-level map of the document (one per kind of record)."""
        root: Map[Any] = self._doc.get(name, type=Map)
        if name not in self._root_changes:
            self._root_changes[name] = 0
            self._subscriptions.append(
                (root, root.observe_deep(lambda events: self._count_change(name, events)))
            )
        return root

    def version(self, name: str) -> tuple[int, int]:
        """Changes whenever the top-level map `name` changes, by a local write or a peer's."""
        self.root(name)
        return self._generation, self._root_changes[name]

    def _count_change(self, name: str, events: list[Any]) -> None:
        self._root_changes[name] += 1
        for event in events:
            if not isinstance(event, MapEvent):
                continue
            path = event.path  # type: ignore[attr-defined]  # slots pycrdt does not declare
            for key, change in event.keys.items():  # type: ignore[attr-defined]
                action, old, new = change["action"], change.get("oldValue"), change.get("newValue")
                if not path:
                    self._touched.append(Touched(name, key, conflicts.RECORD, action, old, new))
                elif len(path) == 1:
                    self._touched.append(Touched(name, str(path[0]), key, action, old, new))

    @asynccontextmanager
    async def change(self) -> AsyncIterator[None]:
        """One change of the system state, saved whole or not at all.

        Do slow work (password hashing, I/O) before entering: changes wait for each other.
        Raises StorageFailure when the change could not be saved (it is then undone).
        """
        async with self._changing:
            self._touched = []
            pending = len(self._pending)
            try:
                with self._doc.transaction():
                    yield
            except BaseException:
                self._touched = []
                # Most refusals come before anything is written: the document is as it was.
                if len(self._pending) > pending:
                    await self._reload()
                raise
            touched, client = self._touched, self._doc.client_id
            clock = conflicts.state_vector(self._doc.get_state()).get(client, 0)
            now = self._clock.now_ms()
            updates = await self._persist(
                lambda conn: conflicts.journal(conn, touched, client, clock, now)
            )
        for listener in self._listeners:
            listener()
        for update in updates:
            for update_listener in self._update_listeners:
                update_listener(update)

    async def merge(self, update: bytes, peer: str, peer_state: bytes | None) -> None:
        """Merge a peer's update, saved like a local change (and not sent on to peers).

        `peer_state` is the peer's state vector when it sent the update: the local writes
        it had not seen and the update overwrote go to the conflict log."""
        seen = conflicts.state_vector(peer_state) if peer_state is not None else None
        async with self._changing:
            for name in list(self._doc.keys()):
                self.root(name)  # observed, so that what the update changes is seen
            self._touched = []
            try:
                self._doc.apply_update(update)
            except BaseException:
                await self._reload()
                raise
            touched, now = self._touched, self._clock.now_ms()
            await self._persist(
                lambda conn: (
                    None if seen is None else conflicts.find(conn, touched, seen, peer, now)
                )
            )
        for listener in self._listeners:
            listener()

    async def clear(self) -> None:
        """Forget the whole document (a server detached from its system): its log, journal
        and conflict log are deleted and their pages overwritten, and the write-ahead log is
        emptied, so no secret of the system is left in the data folder."""
        async with self._changing:
            await self._db.run(lambda conn: _securely(conn, _erase))
            self._key = None
            await self._reload()
        for listener in self._listeners:
            listener()

    async def replace(self, whole_state: bytes, key: bytes) -> None:
        """Become a copy of another server's document (joining its system), sealed with its
        `key`: the log on disk and the key are replaced in one transaction, then read back."""
        async with self._changing:
            now = self._clock.now_ms()
            await self._db.transaction(lambda conn: _become(conn, whole_state, key, now))
            self._key = key
            await self._reload()
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

    async def conflicts(self, limit: int) -> list[Overwrite]:
        """This server's values that peers' concurrent writes overwrote, newest first."""
        return await self._db.run(lambda conn: conflicts.read(conn, limit))

    async def _persist(self, also: Callable[[sqlite3.Connection], None]) -> list[bytes]:
        """Save what the change wrote, and `also` in the same transaction; its updates."""
        if not self._pending:
            return []
        updates = self._pending
        try:
            count = await self._db.transaction(lambda conn: _append_updates(conn, updates, also))
        except (sqlite3.Error, OSError) as err:
            logger.exception("saving the system document failed; undoing the change")
            await self._reload()
            raise StorageFailure("the change could not be saved; nothing was changed") from err
        self._pending = []
        if count > self._compact_after:
            await self._compact()
        return updates

    async def _reload(self) -> None:
        self._replace_doc(await self._db.run(_load_updates))

    async def forget_history(self) -> None:
        """Compact the log into the state as it is now and overwrite the pages the old log
        was on (secrets that were stored in clear, sealed since, leave no trace)."""
        async with self._changing:
            whole_state = self._doc.get_update()
            now = self._clock.now_ms()
            await self._db.run(
                lambda conn: _securely(conn, lambda c: _rewrite(c, whole_state, now))
            )

    async def _compact(self) -> None:
        whole_state = self._doc.get_update()
        try:
            now = self._clock.now_ms()
            await self._db.transaction(lambda conn: _replace_log(conn, whole_state, now))
        except (sqlite3.Error, OSError):
            # The change itself is saved; the longer log is only slower to load. Next time.
            logger.exception("compacting the system document failed")
            return
        logger.info("compacted the system document", extra={"bytes": len(whole_state)})

    def _replace_doc(self, updates: list[bytes]) -> None:
        for observed, subscription in self._subscriptions:
            observed.unobserve(subscription)
        doc: Doc[Any] = Doc()
        for update in updates:
            doc.apply_update(update)
        self._subscriptions = [(doc, doc.observe(self._on_update))]
        self._doc = doc
        self._pending = []
        self._generation += 1
        self._root_changes.clear()

    def _on_update(self, event: TransactionEvent) -> None:
        self._pending.append(event.update)
