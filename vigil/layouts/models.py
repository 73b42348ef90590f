"""A layout: a grid of columns and rows, and tiles on it that each show one camera (or none).

A tile covers one cell or a block of them (a big tile over 2x2 cells beside small ones); tiles
do not overlap and stay inside the grid. A layout is its owner's alone (`owner_id`), or shared
(`owner_id` None): then roles reach it as a resource, as they reach cameras.
"""

from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from vigil.auth.rights import ResourceId

MAX_SIDE = 8  # cells a side: 64 tiles of one cell at most, as the client shows
MAX_TILES = MAX_SIDE * MAX_SIDE


def _not_a_boolean(value: object) -> object:
    """`false` is not row 0, as the API's description says (an integer); the document's
    integers, which come back as floats, still are."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


# The bounds before the validator: after it, pydantic would describe them with its own
# keywords (`ge`), which no JSON Schema reader knows.
Side = Annotated[int, Field(ge=1, le=MAX_SIDE), BeforeValidator(_not_a_boolean)]
Place = Annotated[int, Field(ge=0, lt=MAX_SIDE), BeforeValidator(_not_a_boolean)]


class Tile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    x: Place  # column of the top-left cell, from 0
    y: Place  # row of the top-left cell, from 0
    width: Side = 1
    height: Side = 1
    camera_id: ResourceId | None = None

    def cells(self) -> set[tuple[int, int]]:
        return {(self.x + dx, self.y + dy) for dx in range(self.width) for dy in range(self.height)}


class Grid(BaseModel):
    """The shape and content of a layout, as requests give it and records keep it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: Side
    rows: Side
    tiles: Annotated[list[Tile], Field(max_length=MAX_TILES)]

    @model_validator(mode="after")
    def _tiles_fit(self) -> Self:
        taken: set[tuple[int, int]] = set()
        for n, tile in enumerate(self.tiles):
            if tile.x + tile.width > self.columns or tile.y + tile.height > self.rows:
                raise ValueError(f"tile {n} reaches outside the {self.columns} by {self.rows} grid")
            if taken & tile.cells():
                raise ValueError(f"tile {n} overlaps another tile")
            taken |= tile.cells()
        return self


class LayoutRecord(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    owner_id: str | None  # None: shared, reached by roles' layout rights
    created_ms: int
    # One field, so that two servers changing a layout at once leave one whole grid, never
    # the columns of one and the tiles of the other.
    grid: Grid
