"""The TCP ports a command listens on, as given on its command line.

A port another program holds is the commonest reason a server or the simulator cannot start;
the person who started it needs the port and the option that moves it, not a traceback from
deep inside the event loop. So the commands bind (or try) their ports before anything else.
"""

import errno
import socket


class PortUnavailable(Exception):
    """A port given by `option` cannot be listened on; the message says what to do."""

    def __init__(self, host: str, port: int, option: str, err: OSError) -> None:
        if err.errno == errno.EADDRINUSE:
            message = f"port {port} is in use: choose another with {option}"
        else:
            reason = err.strerror or str(err)
            message = f"cannot listen on {host}:{port} ({option}): {reason}"
        super().__init__(message)
        self.host = host
        self.port = port
        self.option = option


def listen(host: str, port: int, option: str) -> socket.socket:
    """A socket listening on `host:port`, for a server that accepts a ready socket."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # TCP named: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on connections of a
    # socket whose protocol says TCP; with it on, an answer's body waited for the client's
    # delayed ACK of its head, and every request after a connection's first took 40 ms more
    # (bench/security.py: `GET /me` 44 ms, 1 ms now).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # As asyncio and uvicorn do: a port left in TIME_WAIT by the last run is free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise PortUnavailable(host, port, option, err) from err
    return sock


def check_free(host: str, port: int, option: str) -> None:
    """Raises PortUnavailable if `host:port` cannot be listened on now; for servers that bind
    their own socket later (the bind there still decides, this only says it early)."""
    if port:
        listen(host, port, option).close()
