"""Which of a peer's changes overwrote a value written here that the peer had not seen.

Yrs merges concurrent writes of one field by keeping one of them, the same on every server,
and drops the other without a word. To let an administrator see what was lost, each server
keeps a journal of the fields its own changes wrote, with the position of each change in
its own history (its client id and clock in the document's state vector). A peer's update
comes with the peer's state vector; when the update changes a field whose last local write
the peer had not seen, the two were concurrent and the value this server had is written to
the conflict log. The log is per server: only the server whose value was overwritten sees
its loss (the other saw nothing change).
"""

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from pycrdt import Decoder

from vigil.state.database import Migration

JOURNAL_DAYS = 30  # a partition longer than this is merged without a conflict log
RECORD = ""  # the field of a journal row about a whole record (made, replaced, deleted)

MIGRATIONS = [
    Migration(
        "journal of local writes and conflict log",
        "CREATE TABLE document_writes ("
        " client INTEGER NOT NULL, clock INTEGER NOT NULL,"
        " root TEXT NOT NULL, record TEXT NOT NULL, field TEXT NOT NULL,"
        " value TEXT NOT NULL, at_ms INTEGER NOT NULL);"
        "CREATE INDEX document_writes_record ON document_writes (root, record);"
        "CREATE TABLE document_conflicts ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, at_ms INTEGER NOT NULL,"
        " root TEXT NOT NULL, record TEXT NOT NULL, field TEXT NOT NULL,"
        " overwritten TEXT NOT NULL, kept TEXT NOT NULL, peer TEXT NOT NULL)",
    ),
]


@dataclass(frozen=True)
class Touched:
    """One key a transaction changed: a record's field, or a whole record (field RECORD)."""

    root: str
    record: str
    field: str
    action: str  # add, update, delete
    old: Any
    new: Any


@dataclass(frozen=True)
class Overwrite:
    id: int
    at_ms: int
    root: str  # the kind of record: cameras, users…
    record: str
    field: str  # RECORD: the record was deleted or replaced by the peer
    overwritten: Any  # what this server had
    kept: Any  # what the system has now (None: deleted)
    peer: str  # the server whose update overwrote it


def state_vector(data: bytes) -> dict[int, int]:
    """Client id → clock: how much of each writer's history a document holds."""
    decoder = Decoder(data)
    count = decoder.read_var_uint()
    clocks = {}
    for _ in range(count):
        client = decoder.read_var_uint()
        clocks[client] = decoder.read_var_uint()
    return clocks


def journal(
    conn: sqlite3.Connection, touched: list[Touched], client: int, clock: int, at_ms: int
) -> None:
    rows = [
        (client, clock, t.root, t.record, t.field, _json(t.new), at_ms)
        for t in touched
        if t.field != RECORD or t.action == "delete"
    ]
    conn.executemany("INSERT INTO document_writes VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def find(
    conn: sqlite3.Connection, touched: list[Touched], seen: dict[int, int], peer: str, at_ms: int
) -> None:
    """Log each of a merged update's changes that overwrote a local write `seen` lacks."""
    for change in touched:
        rows = conn.execute(
            "SELECT client, clock, field, value FROM document_writes"
            " WHERE root = ? AND record = ? ORDER BY rowid",
            (change.root, change.record),
        ).fetchall()
        unseen = [(field, value) for client, clock, field, value in rows
                  if seen.get(client, 0) < clock]  # fmt: skip
        if change.field == RECORD:
            lost = {field: json.loads(value) for field, value in unseen if field != RECORD}
            if not lost or change.action == "add":
                continue
            overwritten, kept = lost, None if change.action == "delete" else _plain(change.new)
        else:
            if not any(field in (change.field, RECORD) for field, _ in unseen):
                continue
            overwritten, kept = _plain(change.old), _plain(change.new)
        conn.execute(
            "INSERT INTO document_conflicts (at_ms, root, record, field, overwritten, kept, peer)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                at_ms,
                change.root,
                change.record,
                change.field,
                _json(overwritten),
                _json(kept),
                peer,
            ),
        )


def read(conn: sqlite3.Connection, limit: int) -> list[Overwrite]:
    rows = conn.execute(
        "SELECT id, at_ms, root, record, field, overwritten, kept, peer"
        " FROM document_conflicts ORDER BY id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        Overwrite(
            id=row[0],
            at_ms=row[1],
            root=row[2],
            record=row[3],
            field=row[4],
            overwritten=json.loads(row[5]),
            kept=json.loads(row[6]),
            peer=row[7],
        )
        for row in rows
    ]


def forget_old(conn: sqlite3.Connection, now_ms: int) -> None:
    conn.execute(
        "DELETE FROM document_writes WHERE at_ms < ?", (now_ms - JOURNAL_DAYS * 86_400_000,)
    )


def _plain(value: Any) -> Any:
    """A value as JSON holds it: a nested map (a whole record) as its fields."""
    to_py = getattr(value, "to_py", None)
    if to_py is not None:
        try:
            return to_py()
        except Exception:  # a deleted map has nothing left to read
            return None
    return value


def _json(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, default=str)
