"""RTSP/1.0 requests and responses (RFC 2326): parsing from a stream, formatting."""

import asyncio
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

MAX_HEADER_BYTES = 16 * 1024
# Control URLs of a stream's tracks, relative to its URL: video is track 0, sound track 1.
_TRACK = re.compile(r"/trackID=(\d{1,3})$")
MAX_BODY_BYTES = 64 * 1024

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    453: "Not Enough Bandwidth",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


_METHOD = re.compile(r"^[A-Za-z_-]{1,32}$")
# What is echoed into answers is checked first: a URL of visible ASCII (it goes into
# Content-Base and RTP-Info), a CSeq of digits (RFC 2326 §12.17), no header value with a
# control character (a CR or LF echoed would let a client write headers of its own).
_URL = re.compile(r"^[!-~]{1,4096}$")
_CSEQ = re.compile(r"^[0-9]{1,10}$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class BadRequest(Exception):
    """The bytes are not an RTSP request; the answer is 400 and the connection closes."""


@dataclass
class Request:
    method: str
    url: str
    version: str
    headers: dict[str, str]  # names lower-cased
    body: bytes = b""

    @property
    def cseq(self) -> str:
        return self.headers["cseq"]  # there and checked (`parse_head`)

    @property
    def path(self) -> str:
        """The URL's path without a trailing slash or the track's control suffix."""
        try:
            path = urlsplit(self.url).path if "://" in self.url else self.url
        except ValueError as err:
            raise BadRequest(f"malformed URL {self.url[:80]!r}") from err
        return _TRACK.sub("", path.rstrip("/"))

    @property
    def track(self) -> int:
        """The track a request's URL names; the stream's URL alone stands for its first."""
        match = _TRACK.search(self.url.rstrip("/"))
        return int(match[1]) if match else 0

    @property
    def stream_url(self) -> str:
        """The URL without the track's control suffix."""
        return _TRACK.sub("", self.url.rstrip("/"))

    @property
    def query(self) -> dict[str, str]:
        """The stream URL's query parameters (`+` stays a plus: it starts a time zone)."""
        try:
            text = urlsplit(self.stream_url).query if "://" in self.url else ""
        except ValueError as err:
            raise BadRequest(f"malformed URL {self.url[:80]!r}") from err
        pairs = (part.partition("=") for part in text.split("&") if part)
        return {unquote(name): unquote(value) for name, _, value in pairs}


def track_control(track: int) -> str:
    return f"trackID={track}"


@dataclass
class Response:
    status: int
    # A list, not a dict: a 401 carries WWW-Authenticate once per scheme.
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def encode(self, cseq: str | None) -> bytes:
        """The answer; `cseq` is the request's (None for a request whose CSeq is not known
        to be good: the answer has none rather than an unchecked one)."""
        lines = [f"RTSP/1.0 {self.status} {REASONS.get(self.status, 'Error')}"]
        lines += [f"CSeq: {cseq}"] if cseq is not None else []
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def parse_head(head: bytes) -> Request:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as err:
        raise BadRequest("the request is not UTF-8 text") from err
    lines = text.rstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _METHOD.match(parts[0]) or not parts[2].startswith("RTSP/"):
        raise BadRequest(f"malformed request line {lines[0][:80]!r}")
    if not _URL.match(parts[1]):
        raise BadRequest("the URL is not visible ASCII")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise BadRequest(f"malformed header line {line[:80]!r}")
        if _CONTROL.search(value):
            raise BadRequest(f"a control character in the {name.strip()[:40]!r} header")
        headers[name.strip().lower()] = value.strip()
    if not _CSEQ.match(headers.get("cseq", "")):
        raise BadRequest("no CSeq, or not a number")
    return Request(parts[0].upper(), parts[1], parts[2], headers)


async def read_message(
    reader: asyncio.StreamReader, timeout_s: float
) -> Request | tuple[int, bytes]:
    """The next request or interleaved packet; TimeoutError if none starts within `timeout_s`.

    Once a message has begun, the rest must follow within `timeout_s` too.
    """
    async with asyncio.timeout(timeout_s):
        return await _read_message(reader)


async def _read_message(reader: asyncio.StreamReader) -> Request | tuple[int, bytes]:
    """The next request, or an interleaved binary packet as (channel, data).

    Clients send RTCP receiver reports interleaved on the RTSP connection ($, channel,
    16-bit length, data), between requests.
    """
    first = await reader.readexactly(1)
    if first == b"$":
        header = await reader.readexactly(3)
        length = int.from_bytes(header[1:3], "big")
        return header[0], await reader.readexactly(length)
    try:
        rest = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as err:
        raise BadRequest("the request head is too long") from err
    request = parse_head(first + rest)
    length_text = request.headers.get("content-length", "0")
    if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
        raise BadRequest("bad Content-Length")
    if int(length_text):
        request.body = await reader.readexactly(int(length_text))
    return request
