"""Typed views of the system document.

A `Collection` is one top-level map of records keyed by id; each record is a map of fields so
that concurrent edits of different fields of the same record both survive a merge. Code reads
and writes pydantic models through it and never touches the document's maps directly.
"""

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pycrdt import Map
from pydantic import BaseModel

from vigil.state.document import SystemDocument

M = TypeVar("M", bound=BaseModel)


class Collection(Generic[M]):
    def __init__(self, document: SystemDocument, name: str, model: type[M]) -> None:
        self._document = document
        self._name = name
        self._model = model

    def _root(self) -> Map[Any]:
        return self._document.root(self._name)

    def get(self, record_id: str) -> M | None:
        record = self._root().get(record_id)
        if not isinstance(record, Map):
            return None
        return self._model.model_validate(record.to_py())

    def all(self) -> list[M]:
        return [record for _, record in self.items()]

    def items(self) -> list[tuple[str, M]]:
        return [
            (record_id, self._model.model_validate(record.to_py()))
            for record_id, record in self._root().items()
            if isinstance(record, Map)
        ]

    def __len__(self) -> int:
        return len(self._root())

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._root()

    def insert(self, record_id: str, record: M) -> None:
        self._root()[record_id] = Map(record.model_dump(mode="json"))

    def update(self, record_id: str, fields: Mapping[str, Any]) -> None:
        """Set only the given fields, leaving concurrent edits of the others intact."""
        record = self._root()[record_id]
        dumped = self._model.model_validate({**record.to_py(), **fields}).model_dump(mode="json")
        with self._document.transaction():
            for key in fields:
                record[key] = dumped[key]

    def delete(self, record_id: str) -> None:
        del self._root()[record_id]


class Singleton(Generic[M]):
    """A single record stored as the fields of one top-level map (e.g. the system's identity)."""

    def __init__(self, document: SystemDocument, name: str, model: type[M]) -> None:
        self._document = document
        self._name = name
        self._model = model

    def get(self) -> M | None:
        fields = self._document.root(self._name).to_py()
        return self._model.model_validate(fields) if fields else None

    def _fields(self) -> dict[str, Any]:
        return self._document.root(self._name).to_py() or {}

    def set(self, record: M) -> None:
        root = self._document.root(self._name)
        with self._document.transaction():
            root.clear()
            root.update(record.model_dump(mode="json"))

    def update(self, fields: Mapping[str, Any]) -> None:
        root = self._document.root(self._name)
        dumped = self._model.model_validate({**self._fields(), **fields}).model_dump(mode="json")
        with self._document.transaction():
            for key in fields:
                root[key] = dumped[key]
