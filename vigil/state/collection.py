"""Typed views of the system document.

A `Collection` is one top-level map of records keyed by id; each record is a map of fields so
that concurrent edits of different fields of the same record both survive a merge. Code reads
and writes pydantic models through it and never touches the document's maps directly.

Decoding a record out of the CRDT costs tens of microseconds, and reads (every request checks
its user) far outnumber writes, so each view keeps the decoded models until its map changes.
Models are frozen, so the cached ones cannot be changed by accident.
"""

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pycrdt import Map
from pydantic import BaseModel

from vigil.state.document import SystemDocument

M = TypeVar("M", bound=BaseModel)


class _View(Generic[M]):
    def __init__(self, document: SystemDocument, name: str, model: type[M]) -> None:
        self._document = document
        self._name = name
        self._model = model
        self._cached_version: tuple[int, int] | None = None

    def _root(self) -> Map[Any]:
        return self._document.root(self._name)

    def _is_fresh(self) -> bool:
        return self._cached_version == self._document.version(self._name)

    def _mark_fresh(self) -> None:
        self._cached_version = self._document.version(self._name)

    def _invalidate(self) -> None:
        # Writes inside an open transaction are observed only at its end; until then a read
        # must decode again rather than trust the cache.
        self._cached_version = None


class Collection(_View[M]):
    def __init__(self, document: SystemDocument, name: str, model: type[M]) -> None:
        super().__init__(document, name, model)
        self._records: dict[str, M] = {}

    def _decoded(self) -> dict[str, M]:
        if not self._is_fresh():
            with self._document.transaction():
                self._records = {
                    record_id: self._model.model_validate(record.to_py())
                    for record_id, record in self._root().items()
                    if isinstance(record, Map)
                }
            self._mark_fresh()
        return self._records

    def get(self, record_id: str) -> M | None:
        return self._decoded().get(record_id)

    def all(self) -> list[M]:
        return list(self._decoded().values())

    def items(self) -> list[tuple[str, M]]:
        return list(self._decoded().items())

    def __len__(self) -> int:
        return len(self._decoded())

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._decoded()

    def insert(self, record_id: str, record: M) -> None:
        self._root()[record_id] = Map(record.model_dump(mode="json"))
        self._invalidate()

    def update(self, record_id: str, fields: Mapping[str, Any]) -> None:
        """Set only the given fields, leaving concurrent edits of the others intact."""
        record = self._root()[record_id]
        dumped = self._model.model_validate({**record.to_py(), **fields}).model_dump(mode="json")
        with self._document.transaction():
            for key in fields:
                record[key] = dumped[key]
        self._invalidate()

    def delete(self, record_id: str) -> None:
        del self._root()[record_id]
        self._invalidate()


class Singleton(_View[M]):
    """A single record stored as the fields of one top-level map (e.g. the system's identity)."""

    def __init__(self, document: SystemDocument, name: str, model: type[M]) -> None:
        super().__init__(document, name, model)
        self._record: M | None = None

    def get(self) -> M | None:
        if not self._is_fresh():
            fields = self._root().to_py()
            self._record = self._model.model_validate(fields) if fields else None
            self._mark_fresh()
        return self._record

    def set(self, record: M) -> None:
        root = self._root()
        with self._document.transaction():
            root.clear()
            root.update(record.model_dump(mode="json"))
        self._invalidate()

    def update(self, fields: Mapping[str, Any]) -> None:
        root = self._root()
        current = root.to_py() or {}
        dumped = self._model.model_validate({**current, **fields}).model_dump(mode="json")
        with self._document.transaction():
            for key in fields:
                root[key] = dumped[key]
        self._invalidate()
