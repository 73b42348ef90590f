"""Waiting, through the API, for a camera to reach a state."""

import time
from collections.abc import Callable
from typing import Any

import httpx


def wait_for_camera(
    client: httpx.Client,
    camera_id: str,
    done: Callable[[dict[str, Any]], bool],
    timeout_s: float = 20,
) -> dict[str, Any]:
    """The camera as soon as `done` says so, or as it is when the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        camera: dict[str, Any] = client.get(f"/cameras/{camera_id}").json()
        if done(camera) or time.monotonic() > deadline:
            return camera
        time.sleep(0.2)


def streaming(camera: dict[str, Any]) -> bool:
    """Whether every stream of the camera is online with stats."""
    return all(stream["stats"] for stream in camera["streams"].values())
