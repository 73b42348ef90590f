"""SQL of the auth package: sessions, failed-login counters and the audit trail.

All three are local to one server (docs/design/state.md): sessions belong to the server that
issued them, failed-login counters change too often for the replicated document, and each
server keeps the audit trail of what happened on it.
"""

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from vigil.state import Migration

MIGRATIONS = [
    Migration(
        "sessions, failed logins and the audit trail",
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,            -- SHA-256 of the token; the token itself is not kept
            user_id TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            last_used_ms INTEGER NOT NULL,
            address TEXT NOT NULL
        );
        CREATE INDEX sessions_by_user ON sessions (user_id);
        CREATE TABLE login_failures (
            user_id TEXT PRIMARY KEY,
            count INTEGER NOT NULL,
            last_ms INTEGER NOT NULL
        );
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            time_ms INTEGER NOT NULL,
            user_id TEXT,
            user_name TEXT NOT NULL COLLATE NOCASE,
            address TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT,
            details TEXT
        );
        CREATE INDEX audit_by_time ON audit (time_ms);
        CREATE INDEX audit_by_user ON audit (user_name, time_ms);
        CREATE INDEX audit_by_action ON audit (action, time_ms);
        """,
    ),
    Migration(
        "failed logins counted per account and address; locks of names that are no account",
        """
        DROP TABLE login_failures;
        CREATE TABLE login_failures (
            account TEXT NOT NULL,          -- a user's id, or `name:` and a name no user has
            address TEXT NOT NULL,
            count INTEGER NOT NULL,
            last_ms INTEGER NOT NULL,
            locked_until_ms INTEGER NOT NULL DEFAULT 0,  -- for names only (users: document)
            PRIMARY KEY (account, address)
        );
        """,
    ),
]


@dataclass(frozen=True)
class SessionRow:
    id: str
    user_id: str
    epoch: int
    created_ms: int
    last_used_ms: int
    address: str


def load_sessions(conn: sqlite3.Connection) -> list[SessionRow]:
    rows = conn.execute(
        "SELECT id, user_id, epoch, created_ms, last_used_ms, address FROM sessions"
    )
    return [SessionRow(*row) for row in rows]


def insert_session(conn: sqlite3.Connection, s: SessionRow) -> None:
    conn.execute(
        "INSERT INTO sessions (id, user_id, epoch, created_ms, last_used_ms, address)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (s.id, s.user_id, s.epoch, s.created_ms, s.last_used_ms, s.address),
    )


def touch_session(conn: sqlite3.Connection, session_id: str, last_used_ms: int) -> None:
    conn.execute("UPDATE sessions SET last_used_ms = ? WHERE id = ?", (last_used_ms, session_id))


def delete_sessions(conn: sqlite3.Connection, session_ids: list[str]) -> None:
    conn.executemany("DELETE FROM sessions WHERE id = ?", [(i,) for i in session_ids])


def count_failure(
    conn: sqlite3.Connection, account: str, address: str, now_ms: int, window_ms: int
) -> int:
    """Count one more failed login of `account` from `address`; failures older than the
    window are forgotten first (the row of a lock still running is kept)."""
    conn.execute(
        "DELETE FROM login_failures WHERE last_ms < ? AND locked_until_ms <= ?",
        (now_ms - window_ms, now_ms),
    )
    conn.execute(
        "INSERT INTO login_failures (account, address, count, last_ms) VALUES (?, ?, 1, ?)"
        " ON CONFLICT (account, address) DO UPDATE SET count = count + 1,"
        " last_ms = excluded.last_ms",
        (account, address, now_ms),
    )
    count: int = conn.execute(
        "SELECT count FROM login_failures WHERE account = ? AND address = ?", (account, address)
    ).fetchone()[0]
    return count


def clear_failures(conn: sqlite3.Connection, account: str, address: str | None = None) -> None:
    """Forget the failures (and a name's lock) of `account`, from `address` or from all."""
    if address is None:
        conn.execute("DELETE FROM login_failures WHERE account = ?", (account,))
    else:
        conn.execute(
            "DELETE FROM login_failures WHERE account = ? AND address = ?", (account, address)
        )


def lock_name(conn: sqlite3.Connection, account: str, address: str, until_ms: int) -> None:
    conn.execute(
        "UPDATE login_failures SET count = 0, locked_until_ms = ?"
        " WHERE account = ? AND address = ?",
        (until_ms, account, address),
    )


def name_locked_until(conn: sqlite3.Connection, account: str, address: str) -> int:
    row = conn.execute(
        "SELECT locked_until_ms FROM login_failures WHERE account = ? AND address = ?",
        (account, address),
    ).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class AuditRow:
    id: int
    time_ms: int
    user_id: str | None
    user_name: str
    address: str
    action: str
    target: str | None
    details: dict[str, Any] | None


def insert_audit(conn: sqlite3.Connection, row: AuditRow) -> None:
    conn.execute(
        "INSERT INTO audit (time_ms, user_id, user_name, address, action, target, details)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            row.time_ms,
            row.user_id,
            row.user_name,
            row.address,
            row.action,
            row.target,
            None if row.details is None else json.dumps(row.details, ensure_ascii=False),
        ),
    )


@dataclass(frozen=True)
class AuditFilter:
    from_ms: int | None = None
    to_ms: int | None = None
    user_name: str | None = None
    action: str | None = None
    # (time_ms, id): only entries before it, in the order newest first (time, then id).
    older_than: tuple[int, int] | None = None
    limit: int = 100


def query_audit(conn: sqlite3.Connection, f: AuditFilter) -> list[AuditRow]:
    """Entries matching the filter, newest first; `older_than` pages further back."""
    clauses: list[str] = []
    params: list[Any] = []
    for clause, value in (
        ("time_ms >= ?", f.from_ms),
        ("time_ms < ?", f.to_ms),
        ("user_name = ?", f.user_name),
        ("action = ?", f.action),
    ):
        if value is not None:
            clauses.append(clause)
            params.append(value)
    if f.older_than is not None:
        clauses.append("(time_ms < ? OR (time_ms = ? AND id < ?))")
        params.extend((f.older_than[0], f.older_than[0], f.older_than[1]))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = "id, time_ms, user_id, user_name, address, action, target, details"
    # Only constant clauses are joined into the text; every value is a parameter.
    sql = f"SELECT {columns} FROM audit {where} ORDER BY time_ms DESC, id DESC LIMIT ?"  # noqa: S608
    return [
        AuditRow(
            id=row[0],
            time_ms=row[1],
            user_id=row[2],
            user_name=row[3],
            address=row[4],
            action=row[5],
            target=row[6],
            details=None if row[7] is None else json.loads(row[7]),
        )
        for row in conn.execute(sql, [*params, f.limit])
    ]
