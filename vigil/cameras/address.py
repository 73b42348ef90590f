"""Camera addresses: ONVIF device addresses and RTSP stream URLs, as users type them and in
the one form the system stores and compares.

ONVIF Core fixes the device service at `/onvif/device_service`, so a host and port say all:
`host`, `host:port`, `http://host[:port]` and the full device service URL are all accepted and
stored as `http(s)://host[:port]/onvif/device_service`, the form WS-Discovery announces, with
the host in lower case and the scheme's default port left out. One form means "is this camera
added already?" is a string comparison.

A stream URL is stored without credentials (`StreamUrl` takes them out); the RTSP client
connects with what it parsed.
"""

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit, urlunsplit

DEVICE_PATH = "/onvif/device_service"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_EXPECTED = f"expected host[:port] or http://host[:port]{DEVICE_PATH}"
# A DNS name (RFC 1123 labels) or an IPv4 address; IPv6 comes in brackets and is parsed.
_LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"  # underscores: names some sites use
_HOST_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*\.?$")
# What a path and query of a stream URL may hold: visible ASCII (anything else percent-encoded).
_VISIBLE = re.compile(r"^[!-~]*$")


def _check_host(host: str) -> None:
    """ValueError unless `host` (as urlsplit gives it: lower case, no brackets) is a host name
    or an IP address: a control character or a space never reaches a camera request."""
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError as err:
            raise ValueError("the host is not an IPv6 address") from err
    elif not _HOST_NAME.match(host):
        raise ValueError("the host must be a host name or an IP address")


def device_service_url(address: str) -> str:
    """The stored form of `address`; ValueError says what is wrong with it."""
    text = address.strip()
    if "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise ValueError(f"{_EXPECTED} ({err})") from err
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError(_EXPECTED)
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials: give them as username and password")
    if not parts.hostname:
        raise ValueError("must name the camera's host")
    _check_host(parts.hostname)
    if parts.path not in ("", "/", DEVICE_PATH) or parts.query or parts.fragment:
        raise ValueError(f"ONVIF devices serve at {DEVICE_PATH}; give host[:port] or that URL")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}{DEVICE_PATH}"


@dataclass(frozen=True)
class StreamUrl:
    """A camera URL split into what goes on the wire and the credentials it may carry."""

    url: str  # without user info
    host: str
    port: int
    user: str
    password: str = field(repr=False)

    @classmethod
    def parse(cls, url: str, user: str = "", password: str = "") -> "StreamUrl":
        try:
            parts = urlsplit(url)
            port = parts.port or 554
        except ValueError as err:
            raise ValueError(f"expected rtsp://host[:port]/path ({err})") from err
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise ValueError("expected rtsp://host[:port]/path")
        _check_host(parts.hostname)
        if not _VISIBLE.match(parts.path + parts.query):
            raise ValueError("the path holds spaces or control characters: percent-encode them")
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        if parts.port:
            netloc += f":{parts.port}"
        bare = urlunsplit(("rtsp", netloc, parts.path or "/", parts.query, ""))
        return cls(
            bare,
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else user,
            unquote(parts.password) if parts.password else password,
        )
