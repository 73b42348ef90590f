"""RTSP authentication as cameras do it: HTTP Basic and Digest (RFC 2617, MD5)."""

import base64
import hmac
import secrets
from dataclasses import dataclass

from vigil.media.rtsp import digest

REALM = "Vigil TestCam"


def _same(a: str, b: str) -> bool:
    """Constant-time comparison of any text (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(a.encode(), b.encode())


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
        params = digest.parse_params(text)
        if (
            params.get("username") != self.user
            or params.get("nonce") != self._nonce
            or params.get("realm") != REALM
        ):
            return False
        qop = (
            (params.get("nc", ""), params.get("cnonce", ""))
            if params.get("qop") == "auth"
            else None
        )
        expected = digest.response(
            self.user, self.password, REALM, self._nonce, method, params.get("uri", ""), qop
        )
        return _same(expected, params.get("response", ""))
