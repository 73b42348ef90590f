"""The first words of a peer connection: who answers, who dials, and whether they belong.

The answering server sends a `Challenge`; a member dialling it answers with a `Hello` signed
by its identity key, an undefined server with a `JoinRequest`. The dialling server has
already checked, in TLS, that the answering one holds the key the document lists for it
(`tls.peer_key`); the answering one checks the signature against the key listed for the
dialling one. Both keys listed, both proven: the connection is between two members.
"""

import asyncio
import base64
import binascii
import secrets

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.connection import Connection

from vigil.peering import tls
from vigil.system.peers.messages import MESSAGE, Message, signed_text

MAX_FRAME_BYTES = 256 * 1024 * 1024  # the whole document, to a joining server
# A silent peer (a cut cable, a stopped process) is taken for offline within 7 s; a peer whose
# process ends is at once (its connection closes). Every second, pings of 50 servers to each
# other kept two cores 10 % busier than these do (docs/design/system.md).
PING_INTERVAL_S = 3.0
PING_TIMEOUT_S = 4.0
TIMEOUT_S = 10.0


class HandshakeFailed(Exception):
    """The other end is not who it should be, or said something out of turn."""


def nonce() -> str:
    return secrets.token_urlsafe(24)


def sign(
    key: Ed25519PrivateKey, system_id: str, listener_id: str, dialer_id: str, nonce: str
) -> str:
    signature = key.sign(signed_text(system_id, listener_id, dialer_id, nonce))
    return base64.b64encode(signature).decode()


def verify(
    public_key: str, signature: str, system_id: str, listener_id: str, dialer_id: str, nonce: str
) -> None:
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(
            base64.b64decode(signature, validate=True),
            signed_text(system_id, listener_id, dialer_id, nonce),
        )
    except (InvalidSignature, ValueError, binascii.Error) as err:
        raise HandshakeFailed("the signature does not match the server's key") from err


def raw_key(public_key: str) -> bytes:
    return base64.b64decode(public_key)


def dial(host: str, port: int) -> "connect":
    """A connection to another server's peer port (`async with`); its key still to check."""
    return connect(
        f"wss://{host}:{port}/",
        ssl=tls.client_context(),
        server_hostname=host.strip("[]"),
        max_size=MAX_FRAME_BYTES,
        ping_interval=PING_INTERVAL_S,
        ping_timeout=PING_TIMEOUT_S,
        open_timeout=TIMEOUT_S,
        user_agent_header=None,
        compression=None,  # what crosses is mostly video, compressed already
    )


def key_of(connection: ClientConnection) -> bytes | None:
    return tls.peer_key(connection.transport.get_extra_info("ssl_object"))


async def receive(connection: Connection) -> Message:
    """The next message of a handshake, which has no binary frames."""
    frame = await asyncio.wait_for(connection.recv(), TIMEOUT_S)
    if isinstance(frame, bytes):
        raise HandshakeFailed("a binary frame before the handshake's end")
    try:
        return MESSAGE.validate_json(frame)
    except ValueError as err:
        raise HandshakeFailed("not a peer message") from err
