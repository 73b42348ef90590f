"""What the WebSocket endpoints share: sending while noticing at once that the client left;
reading a command."""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from fastapi import WebSocket
from pydantic import TypeAdapter, ValidationError

from vigil.errors import InvalidInput

T = TypeVar("T")
C = TypeVar("C")

MAX_COMMAND_BYTES = 1024


def parse_command(text: str | None, commands: TypeAdapter[C]) -> C:
    """A client's command: a JSON text message of at most 1 KiB that `commands` validates;
    InvalidInput naming the field otherwise."""
    if text is None or len(text) > MAX_COMMAND_BYTES:
        raise InvalidInput("commands are JSON text messages of at most 1 KiB", field="command")
    try:
        return commands.validate_json(text)
    except ValidationError as err:
        problem = err.errors()[0]
        names = [part for part in problem["loc"] if isinstance(part, str)]
        field = names[-1] if len(names) > 1 else "command"
        raise InvalidInput(f"{field}: {problem['msg']}", field=field) from err


async def send_until_closed(
    websocket: WebSocket, sending: Coroutine[Any, Any, T]
) -> "asyncio.Task[T] | None":
    """Runs `sending` until it ends or the client leaves. Returns its finished task (its
    result or what it raised, e.g. WebSocketDisconnect, is for the caller to look at), or None
    when the client left first (`sending` is then cancelled and awaited)."""
    sender = asyncio.create_task(sending)
    listener = asyncio.create_task(_until_closed(websocket))
    tasks = {sender, listener}
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        # Both have finished when this returns; what they raised is the caller's to look at.
        await asyncio.gather(*tasks, return_exceptions=True)
    return sender if sender in done else None


async def _until_closed(websocket: WebSocket) -> None:
    """Reads until the client leaves: what it sends is not part of our protocols, but only
    reading notices the close at once (a client that leaves during silence, say)."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
