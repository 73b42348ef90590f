"""RTSP authentication as cameras do it: HTTP Basic and Digest (RFC 2617, MD5)."""

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

REALM = "Vigil TestCam"

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))')


def _same(a: str, b: str) -> bool:
    """Constant-time comparison of any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode(), b.encode())


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass
class Authenticator:
    user: str
    password: str

    def __post_init__(self) -> None:
        self._nonce = secrets.token_hex(16)

    def challenges(self) -> list[str]:
        """WWW-Authenticate values of a 401: Digest first, as most cameras offer it."""
        return [f'Digest realm="{REALM}", nonce="{self._nonce}"', f'Basic realm="{REALM}"']

    def check(self, method: str, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, rest = header.partition(" ")
        if scheme.lower() == "basic":
            return self._check_basic(rest.strip())
        if scheme.lower() == "digest":
            return self._check_digest(method, rest)
        return False

    def _check_basic(self, token: str) -> bool:
        try:
            decoded = base64.b64decode(token, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        user, _, password = decoded.partition(":")
        return _same(user, self.user) and _same(password, self.password)

    def _check_digest(self, method: str, text: str) -> bool:
        params = {m[1].lower(): m[2] if m[2] is not None else m[3] for m in _PARAM.finditer(text)}
        if (
            params.get("username") != self.user
            or params.get("nonce") != self._nonce
            or params.get("realm") != REALM
        ):
            return False
        ha1 = _md5(f"{self.user}:{REALM}:{self.password}")
        ha2 = _md5(f"{method}:{params.get('uri', '')}")
        if params.get("qop") == "auth":
            expected = _md5(
                f"{ha1}:{self._nonce}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
            )
        else:
            expected = _md5(f"{ha1}:{self._nonce}:{ha2}")
        return _same(expected, params.get("response", ""))
