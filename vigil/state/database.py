"""The server's local SQLite database: one file, WAL, one connection on one thread.

All statements run on a single dedicated thread so the event loop never blocks on disk and the
connection is never shared between threads. Schema changes are versioned per component: each
capability registers its ordered list of migrations under its own name.
"""

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Migration:
    """One schema step; `script` may hold several statements."""

    description: str
    script: str


class Database:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self._submit(self._open)

    def _open(self) -> None:
        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_versions ("
            " component TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            await self._submit(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the database thread."""
        return await self._submit(lambda: work(self._connection()))

    async def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` inside one transaction: all of it is written or none."""

        def in_transaction() -> T:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._submit(in_transaction)

    async def migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        """Bring `component`'s tables to the newest version, one transaction per step."""
        await self._submit(lambda: self._migrate(component, migrations))

    def _migrate(self, component: str, migrations: Sequence[Migration]) -> None:
        if not component.isidentifier():
            raise ValueError(f"component name {component!r} must be an identifier")
        conn = self._connection()
        row = conn.execute(
            "SELECT version FROM schema_versions WHERE component = ?", (component,)
        ).fetchone()
        current = row[0] if row else 0
        if current > len(migrations):
            raise RuntimeError(
                f"database schema of {component!r} is version {current}, newer than this "
                f"Vigil knows ({len(migrations)}); refusing to run an older release on it"
            )
        for version, migration in enumerate(migrations[current:], start=current + 1):
            # executescript commits any open transaction first, so the whole step, including
            # its version bump, is one script between BEGIN and COMMIT.
            try:
                conn.executescript(
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.script};\n"
                    "INSERT INTO schema_versions (component, version) "
                    f"VALUES ('{component}', {version}) "
                    "ON CONFLICT (component) DO UPDATE SET version = excluded.version;\n"
                    "COMMIT;"
                )
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            logger.info(
                "migrated",
                extra={"component": component, "version": version, "step": migration.description},
            )

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def _submit(self, work: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)
