"""Bad SOAP, unknown operations and wrong credentials get SOAP faults; the cameras keep serving."""

import base64
import hashlib
import os
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from lxml import etree
from onvif import ONVIFCamera
from onvif.exceptions import ONVIFError
from zeep.exceptions import Fault

from tests.testcamera.conftest import PASSWORD, USER
from tests.testcamera.process import TestCameraProcess

ENV = "http://www.w3.org/2003/05/soap-envelope"


def _security(user: str, password: str, created_at: datetime | None = None) -> str:
    """A WS-UsernameToken header with a password digest, as the profile defines it."""
    nonce = os.urandom(16)
    created = (created_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(
        hashlib.sha1(nonce + created.encode() + password.encode()).digest()  # noqa: S324
    )
    return (
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/'
        '2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-'
        f'username-token-profile-1.0#PasswordDigest">{digest.decode()}</wsse:Password>'
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def _envelope(body: str, header: str = "") -> str:
    return (
        f'<s:Envelope xmlns:s="{ENV}"><s:Header>{header}</s:Header>'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


DEVICE_INFO = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'


def _post(
    cameras: TestCameraProcess, body: str | bytes, path: str = "device_service"
) -> httpx.Response:
    return httpx.post(
        f"{cameras.url()}/onvif/{path}",
        content=body,
        headers={"Content-Type": "application/soap+xml; charset=utf-8"},
        timeout=10.0,
    )


def _subcodes(answer: httpx.Response) -> list[str]:
    """The fault's code and subcodes, outermost first."""
    root = etree.fromstring(answer.content)
    return [value.text for value in root.iter(f"{{{ENV}}}Value")]


def test_digest_of_the_right_password_is_accepted(cameras: TestCameraProcess) -> None:
    answer = _post(cameras, _envelope(DEVICE_INFO, _security(USER, PASSWORD)))
    assert answer.status_code == 200
    assert b"VTC00000001" in answer.content


def test_a_captured_token_cannot_be_replayed(cameras: TestCameraProcess) -> None:
    request = _envelope(DEVICE_INFO, _security(USER, PASSWORD))
    assert _post(cameras, request).status_code == 200
    again = _post(cameras, request)
    assert again.status_code == 401
    assert "ter:NotAuthorized" in _subcodes(again)


def test_a_stale_token_is_refused(cameras: TestCameraProcess) -> None:
    old = datetime.now(UTC) - timedelta(hours=1)
    answer = _post(cameras, _envelope(DEVICE_INFO, _security(USER, PASSWORD, old)))
    assert answer.status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("", id="no token"),
        pytest.param(_security(USER, "wrong password"), id="wrong password"),
        pytest.param(_security("somebody", PASSWORD), id="wrong user"),
    ],
)
def test_missing_or_wrong_credentials_get_not_authorized(
    cameras: TestCameraProcess, header: str
) -> None:
    answer = _post(cameras, _envelope(DEVICE_INFO, header))
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/soap+xml")
    assert _subcodes(answer) == ["env:Sender", "ter:NotAuthorized"]


def test_the_clock_is_readable_without_credentials(cameras: TestCameraProcess) -> None:
    body = '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
    answer = _post(cameras, _envelope(body))
    assert answer.status_code == 200
    assert b"UTCDateTime" in answer.content


async def test_onvif_client_with_a_wrong_password_is_refused(cameras: TestCameraProcess) -> None:
    client = ONVIFCamera("127.0.0.1", cameras.http_port, USER, "wrong password", no_cache=True)
    try:
        device = await client.create_devicemgmt_service()
        with pytest.raises((Fault, ONVIFError), match="not authorized"):
            await device.GetDeviceInformation()
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("body", "subcodes"),
    [
        pytest.param(b"<not xml", ["env:Sender", "ter:WellFormed"], id="not XML"),
        pytest.param(b"", ["env:Sender", "ter:WellFormed"], id="empty"),
        pytest.param(b"<a>plain XML</a>", ["env:Sender", "ter:WellFormed"], id="not SOAP"),
        pytest.param(_envelope("").encode(), ["env:Sender", "ter:WellFormed"], id="empty body"),
        pytest.param(
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            + DEVICE_INFO.encode()
            + b"</s:Body></s:Envelope>",
            ["env:VersionMismatch", "ter:WellFormed"],
            id="SOAP 1.1",
        ),
        pytest.param(
            b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            + _envelope("<x>&b;</x>").encode(),
            ["env:Sender", "ter:NotAuthorized"],
            id="entities",
        ),
    ],
)
def test_malformed_requests_get_faults(
    cameras: TestCameraProcess, body: bytes, subcodes: list[str]
) -> None:
    answer = _post(cameras, body)
    assert answer.status_code in (400, 401)
    assert _subcodes(answer) == subcodes


def test_unknown_operation_and_service_get_faults(cameras: TestCameraProcess) -> None:
    unknown = '<SelfDestruct xmlns="http://www.onvif.org/ver10/device/wsdl"/>'
    answer = _post(cameras, _envelope(unknown, _security(USER, PASSWORD)))
    assert (answer.status_code, _subcodes(answer)) == (
        400,
        ["env:Receiver", "ter:ActionNotSupported"],
    )
    answer = _post(cameras, _envelope(DEVICE_INFO, _security(USER, PASSWORD)), "nowhere")
    assert (answer.status_code, _subcodes(answer)) == (400, ["env:Sender", "ter:InvalidArgVal"])


def test_bad_arguments_get_invalid_argument_faults(cameras: TestCameraProcess) -> None:
    move = (
        '<AbsoluteMove xmlns="http://www.onvif.org/ver20/ptz/wsdl"><ProfileToken>main</ProfileToken>'
        '<Position><PanTilt xmlns="http://www.onvif.org/ver10/schema" x="left" y="0"/></Position>'
        "</AbsoluteMove>"
    )
    answer = _post(cameras, _envelope(move, _security(USER, PASSWORD)), "ptz_service")
    assert (answer.status_code, _subcodes(answer)) == (400, ["env:Sender", "ter:InvalidArgVal"])
    uri = (
        '<GetStreamUri xmlns="http://www.onvif.org/ver10/media/wsdl">'
        "<ProfileToken>third</ProfileToken></GetStreamUri>"
    )
    answer = _post(cameras, _envelope(uri, _security(USER, PASSWORD)), "media_service")
    assert _subcodes(answer) == ["env:Sender", "ter:InvalidArgVal", "ter:NoProfile"]


def test_oversized_request_gets_a_fault(cameras: TestCameraProcess) -> None:
    answer = _post(cameras, _envelope("<x>" + "a" * 1_000_000 + "</x>"))
    assert (answer.status_code, _subcodes(answer)) == (400, ["env:Sender", "ter:WellFormed"])


def test_control_api_refuses_bad_bodies(cameras: TestCameraProcess) -> None:
    for body in (b"not json", b'{"active": "yes"}', b"[]"):
        answer = httpx.post(f"{cameras.url()}/control/motion", content=body, timeout=5.0)
        assert answer.status_code == 400
        assert answer.json()["error"]["code"] == "invalid_input"
    answer = httpx.post(f"{cameras.url()}/control/input/7", json={"active": True}, timeout=5.0)
    assert answer.status_code == 404


def test_the_cameras_keep_serving_after_bad_input(cameras: TestCameraProcess) -> None:
    for body in (b"<not xml", b"\xff\xfe", _envelope("<x/>").encode()):
        _post(cameras, body)
    assert cameras.running()
    answer = _post(cameras, _envelope(DEVICE_INFO, _security(USER, PASSWORD)))
    assert answer.status_code == 200
    assert "Traceback" not in cameras.logs()
