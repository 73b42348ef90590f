"""SOAP 1.2 envelopes, faults and WS-UsernameToken authentication, as ONVIF devices speak them."""

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from vigil.testcamera.camera import Credentials
from vigil.testcamera.onvif.xmltree import Element, MalformedXml, el, find, local_name, parse, text

CONTENT_TYPE = "application/soap+xml; charset=utf-8"
_PASSWORD_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"  # noqa: S105
    "#PasswordDigest"
)


class SoapFault(Exception):
    """A fault for the client: SOAP code, ONVIF subcodes (e.g. `ter:InvalidArgVal/ter:NoProfile`,
    general to specific), reason.

    `http_status` is what real cameras answer with: 400 for a bad request, 401 for failed
    authentication (some use 400 there too; clients handle both), 500 for receiver faults.
    """

    def __init__(self, code: str, subcode: str, reason: str, *, http_status: int) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.http_status = http_status


def sender_fault(subcode: str, reason: str) -> SoapFault:
    return SoapFault("env:Sender", subcode, reason, http_status=400)


def invalid_argument(reason: str) -> SoapFault:
    return sender_fault("ter:InvalidArgVal", reason)


def not_authorized() -> SoapFault:
    return SoapFault(
        "env:Sender",
        "ter:NotAuthorized",
        "Sender not authorized",
        http_status=401,
    )


def action_not_supported(operation: str) -> SoapFault:
    return SoapFault(
        "env:Receiver",
        "ter:ActionNotSupported",
        f"{operation} is not supported by this service",
        http_status=400,
    )


@dataclass(frozen=True)
class SoapRequest:
    header: Element | None
    operation: Element  # the first element of the body, e.g. <tds:GetDeviceInformation/>

    @property
    def name(self) -> str:
        return local_name(self.operation)


def parse_request(data: bytes) -> SoapRequest:
    """The envelope's header and operation; a SoapFault for anything a device would refuse."""
    try:
        envelope = parse(data)
    except MalformedXml as err:
        raise sender_fault("ter:WellFormed", "The request is not well-formed XML") from err
    if local_name(envelope) != "Envelope":
        raise sender_fault("ter:WellFormed", "The request is not a SOAP envelope")
    if envelope.tag != "{http://www.w3.org/2003/05/soap-envelope}Envelope":
        raise SoapFault(
            "env:VersionMismatch",
            "ter:WellFormed",
            "Only SOAP 1.2 envelopes are accepted",
            http_status=400,
        )
    body = find(envelope, "env:Body")
    if body is None:
        raise sender_fault("ter:WellFormed", "The envelope has no Body")
    operations = [child for child in body if isinstance(child.tag, str)]
    if not operations:
        raise sender_fault("ter:WellFormed", "The Body names no operation")
    return SoapRequest(header=find(envelope, "env:Header"), operation=operations[0])


# A token's Created time must be this close to the camera's clock, and its nonce is refused
# a second time within that window: a captured request cannot be replayed.
TOKEN_WINDOW_S = 300


class NonceCache:
    """The nonces of the tokens accepted within the last TOKEN_WINDOW_S seconds."""

    def __init__(self) -> None:
        self._expiry: dict[bytes, float] = {}

    def first_use(self, nonce: bytes, now_s: float) -> bool:
        if len(self._expiry) > 10_000 or next(iter(self._expiry.values()), now_s) < now_s:
            self._expiry = {n: t for n, t in self._expiry.items() if t >= now_s}
        if nonce in self._expiry:
            return False
        self._expiry[nonce] = now_s + 2 * TOKEN_WINDOW_S
        return True


def authenticate(
    request: SoapRequest, credentials: Credentials, nonces: NonceCache, now_s: float
) -> None:
    """Check the WS-UsernameToken digest: Base64(SHA-1(nonce + created + password)).

    Only the digest form is accepted, as the ONVIF core specification requires; the clear-text
    form would put the password on the wire.
    """
    if not credentials.required:
        return
    token = None if request.header is None else find(request.header, "wsse:Security")
    token = None if token is None else find(token, "wsse:UsernameToken")
    if token is None:
        raise not_authorized()
    password = find(token, "wsse:Password")
    nonce_text = text(token, "wsse:Nonce")
    created = text(token, "wsu:Created")
    if (
        password is None
        or password.get("Type") != _PASSWORD_DIGEST
        or nonce_text is None
        or created is None
        or text(token, "wsse:Username") != credentials.user
    ):
        raise not_authorized()
    try:
        nonce = base64.b64decode(nonce_text, validate=True)
        created_s = datetime.fromisoformat(created.replace("Z", "+00:00")).timestamp()
    except (binascii.Error, ValueError, OverflowError) as err:
        raise not_authorized() from err
    if abs(created_s - now_s) > TOKEN_WINDOW_S:
        raise not_authorized()
    secret = (credentials.password or "").encode()
    # SHA-1 is what the WS-Security UsernameToken profile prescribes; clients send nothing else.
    digest = hashlib.sha1(nonce + created.encode() + secret).digest()  # noqa: S324
    expected = base64.b64encode(digest)
    if not hmac.compare_digest(expected, (password.text or "").strip().encode()):
        raise not_authorized()
    if not nonces.first_use(nonce, now_s):
        raise not_authorized()


def envelope(*body: Element, header: Element | None = None) -> Element:
    return el("env:Envelope", header, el("env:Body", *body))


def fault_envelope(fault: SoapFault) -> Element:
    return envelope(
        el(
            "env:Fault",
            el("env:Code", el("env:Value", fault.code), _subcodes(fault.subcode.split("/"))),
            el("env:Reason", el("env:Text", fault.reason, **{"xml:lang": "en"})),
        )
    )


def _subcodes(values: list[str]) -> Element | None:
    """`ter:InvalidArgVal/ter:NoProfile` nests as ONVIF writes it: the general code outside."""
    if not values:
        return None
    return el("env:Subcode", el("env:Value", values[0]), _subcodes(values[1:]))
