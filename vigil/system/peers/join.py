"""An undefined server asking a member to let it join (the joining end of the handshake).

The member's key cannot be pinned yet, as the joining server knows nothing of the system:
the owner's credentials travel inside TLS to whichever server answers at the address the
owner gave, and the document that comes back must list that server with the key it
presented in TLS, or the answer is thrown away.
"""

import base64
import binascii
from collections.abc import Callable

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from vigil import errors
from vigil.state import sealing
from vigil.system.peers import handshake
from vigil.system.peers.failures import error_of
from vigil.system.peers.messages import Challenge, Failure, Joined, JoinRequest, Refused


async def request_join(
    host: str, port: int, request: Callable[[Challenge], JoinRequest]
) -> tuple[bytes, bytes, str, bytes]:
    """The whole document, the system key, the id of the server that answered and its TLS
    key.

    Raises the member's refusal as the error it was, or PeerUnreachable."""
    try:
        async with handshake.dial(host, port) as connection:
            key = handshake.key_of(connection)
            challenge = await handshake.receive(connection)
            if not isinstance(challenge, Challenge) or key is None:
                raise handshake.HandshakeFailed("it did not answer as a Vigil server")
            await connection.send(request(challenge).model_dump_json())
            answer = await handshake.receive(connection)
    except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI) as err:
        raise errors.PeerUnreachable(
            f"no Vigil server answers at {host}:{port}: {err}", field="address"
        ) from err
    except handshake.HandshakeFailed as err:
        raise errors.PeerUnreachable(str(err), field="address") from err
    if isinstance(answer, Refused):
        raise error_of(Failure(**answer.model_dump(exclude={"type"})))
    if not isinstance(answer, Joined):
        raise errors.PeerUnreachable("the server did not answer the join", field="address")
    try:
        document = base64.b64decode(answer.document, validate=True)
        system_key = base64.b64decode(answer.system_key, validate=True)
    except binascii.Error as err:
        raise errors.PeerUnreachable("the server sent a broken document", field="address") from err
    if len(system_key) != sealing.KEY_BYTES:
        raise errors.PeerUnreachable("the server sent a broken system key", field="address")
    return document, system_key, challenge.server_id, key
