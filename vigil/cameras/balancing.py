"""Where cameras go when their parent server leaves: to the servers with the fewest cameras,
at most MAX_CAMERAS_PER_SERVER each."""

import heapq

from vigil.errors import Conflict

MAX_CAMERAS_PER_SERVER = 128


def spread(camera_ids: list[str], cameras_of: dict[str, int]) -> dict[str, str]:
    """A new parent for each camera among the servers of `cameras_of` (server id → the
    cameras it has now), each camera to the server with the fewest at that moment."""
    room = sum(max(0, MAX_CAMERAS_PER_SERVER - count) for count in cameras_of.values())
    if len(camera_ids) > room:
        raise Conflict(
            f"{len(camera_ids)} cameras need a new server, and the online servers have room "
            f"for {room} (at most {MAX_CAMERAS_PER_SERVER} each): add a server, or remove "
            "the cameras instead"
        )
    servers = [(count, server_id) for server_id, count in cameras_of.items()]
    heapq.heapify(servers)
    moves = {}
    for camera_id in camera_ids:
        count, server_id = heapq.heappop(servers)
        moves[camera_id] = server_id
        heapq.heappush(servers, (count + 1, server_id))
    return moves
