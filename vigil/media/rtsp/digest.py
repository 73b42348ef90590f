"""HTTP Digest authentication as RTSP uses it (RFC 2617, MD5): the parts client and server share."""

import hashlib
import re

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def parse_params(text: str) -> dict[str, str]:
    """The name=value pairs of a Digest challenge or answer; names lower-cased."""
    return {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _PARAM.finditer(text)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def response(
    user: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
    uri: str,
    qop: tuple[str, str] | None = None,  # (nc, cnonce) when qop=auth
) -> str:
    """The `response` value a client sends and a server expects."""
    ha1 = _md5(f"{user}:{realm}:{password}")
    ha2 = _md5(f"{method}:{uri}")
    if qop is not None:
        nc, cnonce = qop
        return _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return _md5(f"{ha1}:{nonce}:{ha2}")
