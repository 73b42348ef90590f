"""The certificate the server answers HTTPS with: the administrator's, or its own.

A server that is given none makes its own at the first start and keeps it in the data folder
(`https/cert.pem`, `https/key.pem`, readable by the server's account alone): an ECDSA P-256
key (what every browser takes; the server's Ed25519 identity key, which the peer port uses,
is not accepted by browsers), self-signed, naming `localhost`, the loopback addresses, the
machine's name and the addresses the server is told it is reached at. Browsers warn about a
certificate nobody signed until it is trusted once (or the administrator gives one signed by
the site's authority); what it still gives at once is encryption, so passwords and session
cookies no longer cross the network in clear. It is made again when it no longer names an
address it must, or within 30 days of its end.
"""

import datetime
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import NameOID

VALID_DAYS = 825  # the longest browsers accept for a certificate a site's authority signed
RENEW_DAYS = 30


@dataclass(frozen=True)
class CertificateFiles:
    cert: Path
    key: Path


class UnusableCertificate(Exception):
    """The administrator's certificate or key cannot be read or do not go together."""


def given_certificate(cert: Path, key: Path) -> CertificateFiles:
    """The administrator's files, checked now: a server that starts answers HTTPS."""
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as err:
        raise UnusableCertificate(f"--tls-cert {cert} and --tls-key {key}: {err}") from err
    return CertificateFiles(cert, key)


def own_certificate(data_dir: Path, addresses: Iterable[str]) -> CertificateFiles:
    """The server's own certificate, made (again) if it is missing, ending, or does not
    name every one of `addresses` (host names or IP addresses; 0.0.0.0 and :: are left out)."""
    folder = data_dir / "https"
    files = CertificateFiles(folder / "cert.pem", folder / "key.pem")
    names = _names(addresses)
    if not _fits(files, names):
        folder.mkdir(mode=0o700, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        _write(files.key, key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        _write(files.cert, _certificate(key, names).public_bytes(Encoding.PEM))
    return files


def _names(addresses: Iterable[str]) -> list[str]:
    wanted = ["localhost", "127.0.0.1", "::1", socket.gethostname(), *addresses]
    names: list[str] = []
    for name in wanted:
        if name and name not in ("0.0.0.0", "::") and name.lower() not in names:  # noqa: S104
            names.append(name.lower())
    return names


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _certificate(key: ec.EllipticCurvePrivateKey, names: list[str]) -> x509.Certificate:
    common_name = f"Vigil server on {socket.gethostname()}"[:64]
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(_san(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )


def _fits(files: CertificateFiles, names: list[str]) -> bool:
    if not (files.cert.is_file() and files.key.is_file()):
        return False
    try:
        certificate = x509.load_pem_x509_certificate(files.cert.read_bytes())
        named = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        key = load_pem_private_key(files.key.read_bytes(), password=None)
    except (ValueError, TypeError, x509.ExtensionNotFound):
        return False
    if key.public_key() != certificate.public_key():  # a start cut between the two writes
        return False
    renew_at = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=RENEW_DAYS)
    return certificate.not_valid_after_utc > renew_at and set(_san(names)) <= set(named.value)


def _write(path: Path, data: bytes) -> None:
    """Written whole or not at all, readable by the server's account alone."""
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    partial.replace(path)
