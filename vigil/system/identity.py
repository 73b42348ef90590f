"""The server's identity: a stable id and an Ed25519 key pair, made on its first start.

The public key is listed in the system document for the servers of a system to authenticate
each other by (peer connections are not built yet: docs/design/architecture.md); the private
key never leaves the database.
"""

import base64
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vigil.state import Database
from vigil.system import store


@dataclass(frozen=True)
class ServerIdentity:
    id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> str:
        raw = self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()


async def load_or_create_identity(db: Database) -> ServerIdentity:
    await db.migrate("system", store.MIGRATIONS)
    saved = await db.run(store.load_identity)
    if saved is not None:
        server_id, raw = saved
        return ServerIdentity(server_id, Ed25519PrivateKey.from_private_bytes(raw))
    key = Ed25519PrivateKey.generate()
    server_id = uuid.uuid4().hex
    await db.transaction(lambda conn: store.save_identity(conn, server_id, key.private_bytes_raw()))
    return ServerIdentity(server_id, key)
