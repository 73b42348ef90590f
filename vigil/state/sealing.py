"""Secrets in the system document (camera passwords), sealed with the system key.

The document is replicated to every server and kept in each one's database; a secret in it in
clear would be in every copy, every backup of a data folder, every page SQLite leaves behind.
So a secret field is stored sealed: AES-256-GCM with the system key, a fresh 96-bit nonce per
value, and the record and field as associated data (a sealed value copied into another
record does not open there). The key is not in the document: each server keeps it in its own
database beside it, it is handed to a joining server inside the authenticated peer
connection, and it is erased with the document when the server is detached.

A value stored before sealing existed (no prefix) reads as it is, and is sealed when the
server starts (`Collection.seal_plain`).
"""

import base64
import binascii
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed:v1:"
KEY_BYTES = 32
_NONCE_BYTES = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=8 * KEY_BYTES)


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(key: bytes, plain: str, context: str) -> str:
    """`plain` sealed for the place `context` names ("" stays "": nothing to hide)."""
    if not plain:
        return ""
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plain.encode(), context.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


class Unopenable(ValueError):
    """Sealed with another key, or damaged."""


def unseal(key: bytes | None, stored: str, context: str) -> str:
    if not is_sealed(stored):
        return stored  # stored before sealing existed
    if key is None:
        raise Unopenable("no system key on this server")
    try:
        raw = base64.b64decode(stored[len(PREFIX) :], validate=True)
        return (
            AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        )
    except (binascii.Error, InvalidTag, UnicodeDecodeError, ValueError) as err:
        raise Unopenable("sealed with another key, or damaged") from err
