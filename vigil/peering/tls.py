"""TLS between servers, authenticated by the Ed25519 keys listed in the system document.

Each server presents a self-signed certificate made at start from its identity key. Nobody
signs these certificates, so nothing is verified against a certificate authority: a dialling
server instead pins the key it finds in the certificate to the key the document lists for the
server it meant to reach (`peer_key`), and proves its own identity inside that connection by
signing the answering server's fresh challenge (`vigil/system/peers/handshake.py`).
"""

import datetime
import os
import ssl
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from cryptography.x509.oid import NameOID

CERTIFICATE_DAYS = 3650


def certificate(key: Ed25519PrivateKey, server_id: str) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"vigil server {server_id}")])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=CERTIFICATE_DAYS))
        .sign(key, None)
    )


def server_context(key: Ed25519PrivateKey, server_id: str, folder: Path) -> ssl.SSLContext:
    """What the peer port answers with. The key is in a file only for the moment `ssl` reads
    it (it takes nothing but paths), in `folder`, readable by this user alone."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    pem = certificate(key, server_id).public_bytes(Encoding.PEM) + key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    fd, path = tempfile.mkstemp(dir=folder, prefix=".peer-", suffix=".pem")
    try:
        os.write(fd, pem)
        os.close(fd)
        context.load_cert_chain(path)
    finally:
        os.unlink(path)
    return context


def client_context() -> ssl.SSLContext:
    """Certificates are self-signed: the key is checked after the handshake (`peer_key`)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def peer_key(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> bytes | None:
    """The raw Ed25519 public key of the certificate the other end presented, if any."""
    if ssl_object is None:
        return None
    der = ssl_object.getpeercert(binary_form=True)
    if der is None:
        return None
    public = x509.load_der_x509_certificate(der).public_key()
    if not isinstance(public, Ed25519PublicKey):
        return None
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)
