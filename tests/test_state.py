"""The state layer on its own: the document's update log, compaction, failure and migrations."""

import sqlite3
from pathlib import Path

import pytest
from pydantic import BaseModel

from vigil.errors import StorageFailure
from vigil.state import Collection, Database, Migration, SystemDocument


class Thing(BaseModel):
    name: str
    size: int = 0
    tags: list[str] = []


async def _open(path: Path, compact_after: int = 500) -> tuple[Database, SystemDocument]:
    db = Database(path)
    await db.open()
    document = SystemDocument(db, compact_after=compact_after)
    await document.open()
    return db, document


async def test_committed_records_survive_reopening(tmp_path: Path) -> None:
    db, document = await _open(tmp_path / "s.db")
    things = Collection(document, "things", Thing)
    things.insert("a", Thing(name="first", size=3, tags=["x"]))
    things.insert("b", Thing(name="second"))
    things.update("a", {"size": 4})
    things.delete("b")
    await document.commit()
    await db.close()

    db, document = await _open(tmp_path / "s.db")
    assert Collection(document, "things", Thing).items() == [
        ("a", Thing(name="first", size=4, tags=["x"]))
    ]
    await db.close()


async def test_uncommitted_changes_are_not_on_disk(tmp_path: Path) -> None:
    db, document = await _open(tmp_path / "s.db")
    Collection(document, "things", Thing).insert("a", Thing(name="lost"))
    await db.close()
    db, document = await _open(tmp_path / "s.db")
    assert len(Collection(document, "things", Thing)) == 0
    await db.close()


async def test_compaction_keeps_the_whole_state_in_one_update(tmp_path: Path) -> None:
    db, document = await _open(tmp_path / "s.db", compact_after=10)
    things = Collection(document, "things", Thing)
    for i in range(25):
        things.insert(f"t{i}", Thing(name=f"thing {i}", size=i))
        await document.commit()
    rows = await db.run(lambda c: c.execute("SELECT count(*) FROM document_updates").fetchone())
    assert rows[0] <= 10
    await db.close()
    db, document = await _open(tmp_path / "s.db")
    things = Collection(document, "things", Thing)
    assert sorted(t.size for t in things.all()) == list(range(25))
    await db.close()


async def test_concurrent_edits_of_different_fields_both_survive(tmp_path: Path) -> None:
    """Two servers editing one record: each change is an update; merged, both stay."""
    db_a, a = await _open(tmp_path / "a.db")
    db_b, b = await _open(tmp_path / "b.db")
    Collection(a, "things", Thing).insert("x", Thing(name="shared"))
    await a.commit()
    b.apply_update(a.updates_since(b.state_vector()))
    Collection(a, "things", Thing).update("x", {"size": 7})
    Collection(b, "things", Thing).update("x", {"name": "renamed"})
    a.apply_update(b.updates_since(a.state_vector()))
    b.apply_update(a.updates_since(b.state_vector()))
    await a.commit()
    await b.commit()
    for document in (a, b):
        assert Collection(document, "things", Thing).get("x") == Thing(name="renamed", size=7)
    await db_a.close()
    await db_b.close()
    db_b, b = await _open(tmp_path / "b.db")
    assert Collection(b, "things", Thing).get("x") == Thing(name="renamed", size=7)
    await db_a.close()
    await db_b.close()


async def test_a_failed_commit_rolls_the_document_back(tmp_path: Path) -> None:
    db, document = await _open(tmp_path / "s.db")
    things = Collection(document, "things", Thing)
    things.insert("kept", Thing(name="kept"))
    await document.commit()
    await db.run(
        lambda c: c.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON document_updates"
            " BEGIN SELECT RAISE(ABORT, 'disk says no'); END"
        )
    )
    things.insert("lost", Thing(name="lost"))
    with pytest.raises(StorageFailure):
        await document.commit()
    assert [key for key, _ in Collection(document, "things", Thing).items()] == ["kept"]
    await db.close()


async def test_migrations_run_once_in_order_and_refuse_a_newer_schema(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    await db.open()
    steps = [
        Migration("one", "CREATE TABLE t (a INTEGER)"),
        Migration("two", "ALTER TABLE t ADD COLUMN b TEXT"),
    ]
    await db.migrate("demo", steps[:1])
    await db.migrate("demo", steps)
    await db.migrate("demo", steps)  # nothing left to do
    columns = await db.run(lambda c: [r[1] for r in c.execute("PRAGMA table_info(t)")])
    assert columns == ["a", "b"]
    with pytest.raises(RuntimeError, match="newer"):
        await db.migrate("demo", steps[:1])
    await db.close()


async def test_a_failing_migration_leaves_the_schema_as_it_was(tmp_path: Path) -> None:
    db = Database(tmp_path / "m.db")
    await db.open()
    broken = [Migration("half", "CREATE TABLE u (a INTEGER); CREATE TABLE u (b INTEGER)")]
    with pytest.raises(sqlite3.OperationalError):
        await db.migrate("demo", broken)
    tables = await db.run(
        lambda c: [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE name = 'u'")]
    )
    assert tables == []
    await db.close()
