"""Waiting, through the API, for a camera to reach a state."""

import time
from collections.abc import Callable
from typing import Any

import httpx

Answer = dict[str, Any]


def wait_for(
    client: httpx.Client,
    path: str,
    done: Callable[[Answer], object],
    what: str,
    timeout_s: float = 20,
) -> Answer:
    """The answer to GET `path` as soon as `done` says so; fail naming `what` after `timeout_s`.

    The failure carries the last answer, which says how far the server got.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        answer: Answer = client.get(path).json()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout_s:g} s for {what} (GET {path}); last: {answer}")
        time.sleep(0.2)


def wait_for_camera(
    client: httpx.Client,
    camera_id: str,
    done: Callable[[Answer], object],
    what: str,
    timeout_s: float = 20,
) -> Answer:
    """The camera as soon as `done` says so; fail naming `what` after `timeout_s`."""
    return wait_for(client, f"/cameras/{camera_id}", done, what, timeout_s)


def streaming(camera: Answer) -> bool:
    """Whether every stream of the camera is online with stats."""
    return all(stream["stats"] for stream in camera["streams"].values())
