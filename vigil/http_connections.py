"""uvicorn's HTTP/1.1 connections, bounded for a network nobody fully trusts.

uvicorn closes a connection left idle after an answer (keep-alive), but waits for a request's
head for ever: a client that connects and says nothing, or one byte every few seconds, holds a
connection (and its memory) as long as it likes. Here:

- a request's head must be complete within `HEAD_TIMEOUT_S` of the connection opening or of
  the answer before; a WebSocket, once upgraded, is the WebSocket layer's;
- one address holds at most `MAX_CONNECTIONS_PER_CLIENT` connections (HTTP and WebSocket
  together); more are closed at once;
- a request head over `MAX_HEAD_BYTES` is refused with 431 (h11 bounds only a head that
  comes in pieces), and one h11 cannot parse with 400, both in JSON as every other error of
  the API.
"""

import asyncio
import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT_S = 10.0
MAX_HEAD_BYTES = 16 * 1024
# A browser opens 6 connections to a host and a WebSocket per window; a control room's
# clients behind one NAT address, and tests on loopback, many more.
MAX_CONNECTIONS_PER_CLIENT = 256


class BoundedHttp(H11Protocol):
    _head_timer: asyncio.TimerHandle | None = None
    _awaited: object = None  # the request cycle current when the head timer was set

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        if address is not None and self._connections_from(address) > MAX_CONNECTIONS_PER_CLIENT:
            self.connections.discard(self)
            transport.close()
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._await_head()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._stop_waiting()
        super().handle_websocket_upgrade(event)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # a request's head is coming
            pending = self.conn.trailing_data[0] + data
            end = pending.find(b"\r\n\r\n", 0, MAX_HEAD_BYTES + 4)
            if end < 0 and len(pending) > MAX_HEAD_BYTES:
                self._refuse(431, "too_large", f"the request head is over {MAX_HEAD_BYTES} bytes")
                return
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, "bad_request", msg)

    def _refuse(self, status: int, code: str, message: str) -> None:
        """An answer in JSON, and the connection closed: nothing more of it is read."""
        self._stop_waiting()
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (
            h11.Response(status_code=status, headers=headers),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()

    def _connections_from(self, address: str) -> int:
        return sum(
            1
            for connection in self.connections
            if (client := getattr(connection, "client", None)) and client[0] == address
        )

    def _await_head(self) -> None:
        self._stop_waiting()
        self._awaited = self.cycle
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_late)

    def _stop_waiting(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        """No new request began since the timer was set, and none is being answered (a
        pipelined one may have begun before it): the connection goes."""
        self._head_timer = None
        cycle = self.cycle
        waiting = cycle is None or cycle.response_complete
        if cycle is self._awaited and waiting and not self.transport.is_closing():
            self.transport.close()
