// A layout's grid as the server keeps it (vigil/layouts/models.py): columns and rows, and
// tiles that each cover one cell or a block of them and show one camera or none. Tiles are
// kept in reading order (by row, then column), which is the order number keys pick them in.

export const SIZES = [1, 4, 9, 16, 25, 36, 49, 64];

/**
 * @typedef {{x: number, y: number, width: number, height: number, camera_id: string | null}} Tile
 * @typedef {{columns: number, rows: number, tiles: Tile[]}} Grid
 */

/** A grid of `size` tiles of one cell (a square number), showing `cameras` in order. */
export function uniform(/** @type {number} */ size, /** @type {(string | null)[]} */ cameras = []) {
  const side = Math.round(Math.sqrt(size));
  const tiles = Array.from({ length: side * side }, (_, n) => ({
    x: n % side, y: Math.floor(n / side), width: 1, height: 1, camera_id: cameras[n] ?? null,
  }));
  return { columns: side, rows: side, tiles };
}

/** The grid with tile `index` over 2×2 cells (the tiles it covers go, their cameras to the
 * first empty tiles left), or, when it is big already, back to cells of one; null when it
 * does not fit there. */
export function toggleBig(/** @type {Grid} */ grid, /** @type {number} */ index) {
  const tile = grid.tiles[index];
  if (tile.width > 1 || tile.height > 1) {
    const small = [];
    for (let dy = 0; dy < tile.height; dy += 1) {
      for (let dx = 0; dx < tile.width; dx += 1) {
        small.push({ x: tile.x + dx, y: tile.y + dy, width: 1, height: 1,
                     camera_id: dx === 0 && dy === 0 ? tile.camera_id : null });
      }
    }
    return ordered(grid, [...grid.tiles.filter((t) => t !== tile), ...small]);
  }
  if (tile.x + 2 > grid.columns || tile.y + 2 > grid.rows) return null;
  const big = { ...tile, width: 2, height: 2 };
  const covered = grid.tiles.filter((t) => t !== tile && overlaps(t, big));
  // A tile reaching out of the block cannot be cut: no room for a big one here.
  if (covered.some((t) => t.x < big.x || t.y < big.y || t.x + t.width > big.x + 2 || t.y + t.height > big.y + 2)) {
    return null;
  }
  const result = ordered(grid, [...grid.tiles.filter((t) => t !== tile && !covered.includes(t)), big]);
  const displaced = covered.flatMap((t) => (t.camera_id === null ? [] : [t.camera_id]));
  for (const empty of result.tiles.filter((t) => t.camera_id === null).slice(0, displaced.length)) {
    empty.camera_id = displaced.shift() ?? null;
  }
  return result;
}

/** A grid read back from storage or the server, if it is one; else null. */
export function checked(/** @type {any} */ stored) {
  if (!stored || !Number.isInteger(stored.columns) || !Number.isInteger(stored.rows) || !Array.isArray(stored.tiles)) {
    return null;
  }
  const tiles = stored.tiles.filter((/** @type {any} */ t) => [t?.x, t?.y, t?.width, t?.height].every(Number.isInteger))
    .map((/** @type {any} */ t) => ({ x: t.x, y: t.y, width: t.width, height: t.height,
                                      camera_id: typeof t.camera_id === 'string' ? t.camera_id : null }));
  return tiles.length ? ordered(stored, tiles) : null;
}

/** The number of tiles a grid of cells of one would have, if it is such a grid. */
export function uniformSize(/** @type {Grid} */ grid) {
  const plain = grid.columns === grid.rows && grid.tiles.every((t) => t.width === 1 && t.height === 1);
  return plain ? grid.tiles.length : null;
}

function ordered(/** @type {{columns: number, rows: number}} */ shape, /** @type {Tile[]} */ tiles) {
  const copies = tiles.map((t) => ({ ...t })); // a new grid shares no tile with the old one
  return { columns: shape.columns, rows: shape.rows, tiles: copies.sort((a, b) => a.y - b.y || a.x - b.x) };
}

function overlaps(/** @type {Tile} */ a, /** @type {Tile} */ b) {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}
