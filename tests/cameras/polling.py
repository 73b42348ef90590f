"""Waiting, through the API, for a camera to reach a state."""

import time
from collections.abc import Callable
from typing import Any

import httpx

Answer = dict[str, Any]


def wait_for(
    client: httpx.Client, path: str, done: Callable[[Answer], bool], timeout_s: float = 20
) -> Answer:
    """The answer to GET `path` as soon as `done` says so, or as it is when the time is up."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer: Answer = client.get(path).json()
        if done(answer) or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)


def wait_for_camera(
    client: httpx.Client, camera_id: str, done: Callable[[Answer], bool], timeout_s: float = 20
) -> Answer:
    """The camera as soon as `done` says so, or as it is when the time is up."""
    return wait_for(client, f"/cameras/{camera_id}", done, timeout_s)


def streaming(camera: Answer) -> bool:
    """Whether every stream of the camera is online with stats."""
    return all(stream["stats"] for stream in camera["streams"].values())
