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

from vigil.state import sealing
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
    def __init__(
        self,
        document: SystemDocument,
        name: str,
        model: type[M],
        *,
        sealed: frozenset[str] = frozenset(),
    ) -> None:
        """`sealed`: the fields stored sealed with the system key (sealing.py); the models
        hold them in clear, the document never does."""
        super().__init__(document, name, model)
        self._sealed = sealed
        self._records: dict[str, M] = {}

    def _decoded(self) -> dict[str, M]:
        if not self._is_fresh():
            with self._document.transaction():
                self._records = {
                    record_id: self._model.model_validate(
                        self._opened(record_id, record.to_py() or {})
                    )
                    for record_id, record in self._root().items()
                    if isinstance(record, Map)
                }
            self._mark_fresh()
        return self._records

    def _context(self, record_id: str, field: str) -> str:
        return f"{self._name}/{record_id}/{field}"

    def _opened(self, record_id: str, stored: dict[str, Any]) -> dict[str, Any]:
        for field in self._sealed & stored.keys():
            stored[field] = self._document.unseal(stored[field], self._context(record_id, field))
        return stored

    def _sealing(self, record_id: str, dumped: dict[str, Any]) -> dict[str, Any]:
        for field in self._sealed & dumped.keys():
            dumped[field] = self._document.seal(dumped[field], self._context(record_id, field))
        return dumped

    def plain_secrets(self) -> list[tuple[str, str]]:
        """(record id, field) of the secrets stored before sealing existed."""
        return [
            (record_id, field)
            for record_id, record in self._root().items()
            if isinstance(record, Map)
            for field in self._sealed
            if isinstance(value := record.get(field), str)
            and value
            and not sealing.is_sealed(value)
        ]

    def seal_plain(self) -> None:
        """Seal the secrets stored before sealing existed (at start, inside a change)."""
        for record_id, field in self.plain_secrets():
            record = self._root()[record_id]
            record[field] = self._document.seal(record[field], self._context(record_id, field))
        self._invalidate()

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
        self._root()[record_id] = Map(self._sealing(record_id, record.model_dump(mode="json")))
        self._invalidate()

    def update(self, record_id: str, fields: Mapping[str, Any]) -> None:
        """Set only the given fields, leaving concurrent edits of the others intact."""
        record = self._root()[record_id]
        current = self._opened(record_id, record.to_py() or {})
        dumped = self._model.model_validate({**current, **fields}).model_dump(mode="json")
        dumped = self._sealing(record_id, {key: dumped[key] for key in fields})
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
