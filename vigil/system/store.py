"""SQL of the system package: the server's own identity, made on first start."""

import sqlite3

from vigil.state import Migration

MIGRATIONS = [
    Migration(
        "server identity",
        "CREATE TABLE identity ("
        " id TEXT NOT NULL,"
        " private_key BLOB NOT NULL,"
        " singleton INTEGER PRIMARY KEY CHECK (singleton = 1))",
    ),
]


def load_identity(conn: sqlite3.Connection) -> tuple[str, bytes] | None:
    row = conn.execute("SELECT id, private_key FROM identity").fetchone()
    return None if row is None else (row[0], row[1])


def save_identity(conn: sqlite3.Connection, server_id: str, private_key: bytes) -> None:
    conn.execute(
        "INSERT INTO identity (id, private_key, singleton) VALUES (?, ?, 1)",
        (server_id, private_key),
    )
