"""HTTPS: the server answers with its own certificate (or the administrator's), the session
cookie is `Secure` over it, WebSockets go over it, and the HTTP port serves, redirects or is
off as told. Clients check the certificate as a browser that trusts it would."""

import datetime
import ipaddress
import json
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from websockets.sync.client import connect

from tests.servers import OWNER, OWNER_PASSWORD, ServerProcess, free_port

WAIT_S = 20.0


def _trusting(certificate: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate))


def _served_certificate(server: ServerProcess) -> x509.Certificate:
    pem = ssl.get_server_certificate(("127.0.0.1", server.https_port))
    return x509.load_pem_x509_certificate(pem.encode())


def test_the_api_and_its_websockets_over_https_with_the_server_s_own_certificate(
    tmp_path: Path,
) -> None:
    with ServerProcess(tmp_path / "server").start() as server:
        server.create_system()
        trust = _trusting(server.certificate)
        with httpx.Client(base_url=f"{server.https_url}/api/v1", verify=trust) as browser:
            logged_in = browser.post("/login", json={"name": OWNER, "password": OWNER_PASSWORD})
            assert logged_in.status_code == 200, logged_in.text
            cookie = logged_in.headers["set-cookie"]
            assert "Secure" in cookie  # never sent back over plain HTTP
            assert browser.get("/me").json()["user"]["name"] == OWNER
            token = logged_in.json()["token"]
        with server.login() as plain:  # the HTTP port serves as well, by default
            assert plain.get("/me").status_code == 200
        url = f"wss://127.0.0.1:{server.https_port}/api/v1/live?codecs=h264"
        headers = {"Authorization": f"Bearer {token}"}
        with connect(url, ssl=trust, additional_headers=headers, open_timeout=WAIT_S) as ws:
            assert json.loads(ws.recv(timeout=WAIT_S))["type"] == "ready"
        served = _served_certificate(server)
    names = served.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert isinstance(served.public_key(), ec.EllipticCurvePublicKey)  # what browsers take
    key = server.certificate.with_name("key.pem")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_a_certificate_made_once_is_kept_across_restarts(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "server")
    with server.start():
        first = _served_certificate(server)
    with server.start():
        assert _served_certificate(server) == first


@pytest.mark.parametrize("mode", ["redirect", "off"])
def test_the_http_port_redirects_to_https_or_is_off(tmp_path: Path, mode: str) -> None:
    with ServerProcess(tmp_path / "server", options=["--http", mode]).start() as server:
        if mode == "redirect":
            answer = httpx.get(f"{server.url}/api/v1/server?x=1", headers={"Host": "vms.local"})
            assert answer.status_code == 308
            expected = f"https://vms.local:{server.https_port}/api/v1/server?x=1"
            assert answer.headers["location"] == expected
        else:
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"{server.url}/api/v1/server")
        trust = _trusting(server.certificate)
        assert httpx.get(f"{server.https_url}/api/v1/server", verify=trust).status_code == 200


def _certificate_of_a_site_authority(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 as an administrator would give one (signed by itself
    here, standing in for the site's authority)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vms.plant4.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert, key_file = folder / "site.pem", folder / "site.key"
    cert.write_bytes(certificate.public_bytes(Encoding.PEM))
    key_file.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert, key_file


def test_the_administrator_s_certificate_is_served_and_a_bad_one_stops_the_start(
    tmp_path: Path,
) -> None:
    cert, key = _certificate_of_a_site_authority(tmp_path)
    options = ["--tls-cert", str(cert), "--tls-key", str(key)]
    with ServerProcess(tmp_path / "server", options=options).start() as server:
        served = _served_certificate(server)
        assert served.public_bytes(Encoding.PEM) == cert.read_bytes()
        assert httpx.get(f"{server.https_url}/api/v1/server", verify=_trusting(cert)).is_success
    wrong = subprocess.run(
        [sys.executable, "-m", "vigil", "server", "--data", str(tmp_path / "other"),
         "--port", str(free_port()), "--https-port", str(free_port()), "--rtsp-port", "0",
         "--peer-port", "0", "--tls-cert", str(cert), "--tls-key", str(tmp_path / "none.key")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert wrong.returncode == 1
    lines = (wrong.stdout + wrong.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "--tls-key" in lines[0]
