"""RTSP clients let in as API callers are: the same login, permission table and camera rights.

A player sends HTTP Basic credentials (RFC 7617) with each request once it has been asked.
The first on a connection logs in through `LoginService` (so the lock-out after wrong
passwords and the audit trail's `login` / `login.failed` apply, marked `via: rtsp`), and the
session it opens serves the connection's later requests without hashing the password again;
it ends with the connection (`logout`). Digest authentication is not offered: it needs the
password or a hash made for it, and only argon2id hashes are stored.

Rights come from the permission table's RTSP rows (`access.RULES`): live needs `live_view`,
the archive `playback`; and the role must see the camera. A camera it may not see is a 403
here, not the API's 404: a player has no other way to tell a wrong address from a missing
right. Errors become RTSP statuses by the one table of them (`errors.RTSP_STATUS`).
"""

import base64
import binascii
from dataclasses import dataclass

from vigil.api.access import RTSP, RTSP_ARCHIVE, RTSP_LIVE, Access
from vigil.api.errors import RTSP_STATUS
from vigil.auth.login import LoginService
from vigil.auth.sessions import ActiveSession, Sessions
from vigil.cameras.service import CameraService
from vigil.errors import Forbidden, Unauthenticated, VigilError
from vigil.media.rtsp.server import Connection
from vigil.media.rtsp.service import Refused, Target

# The audit trail's entries of these logins carry `"via": "rtsp"`: a player's logins, one per
# connection, are told from a person's.
VIA = "rtsp"


@dataclass(frozen=True)
class _Login:
    authorization: str  # the header it was made with
    token: str
    session: ActiveSession


class RtspAccess:
    def __init__(
        self, access: Access, login: LoginService, sessions: Sessions, cameras: CameraService
    ) -> None:
        self._access = access
        self._login = login
        self._sessions = sessions
        self._cameras = cameras
        self._logins: dict[Connection, _Login] = {}

    async def admit(self, client: Connection, authorization: str | None, target: Target) -> None:
        try:
            await self._check(client, authorization, target)
        except VigilError as err:
            status = RTSP_STATUS.get(type(err))
            if status is None:
                raise  # not a refusal: the server's failure, which it logs and answers 500
            raise Refused(status) from err

    async def _check(self, client: Connection, authorization: str | None, target: Target) -> None:
        session = await self._session(client, authorization)
        path = RTSP_LIVE if target.start_ms is None else RTSP_ARCHIVE
        role = self._access.role_allowed(self._access.rule((RTSP, path)), session)
        self._cameras.require(target.camera_id)
        if not role.rights.may_see_camera(target.camera_id):
            raise Forbidden(f"your role may not see camera {target.camera_id!r}")

    async def forget(self, client: Connection) -> None:
        known = self._logins.pop(client, None)
        if known is not None:
            await self._login.logout(known.session, client.address, via=VIA)

    async def _session(self, client: Connection, authorization: str | None) -> ActiveSession:
        known = self._logins.get(client)
        if known is not None and known.authorization == authorization:
            session = await self._sessions.resolve(known.token)
            if session is not None:
                return session
            del self._logins[client]  # ended meanwhile (password changed, user disabled…)
        if not authorization:
            raise Unauthenticated("log in with a user name and password (Basic)")
        name, password = _basic(authorization)
        token, session = await self._login.login(name, password, client.address, via=VIA)
        if known is not None and client in self._logins:  # other credentials on the connection
            await self.forget(client)
        self._logins[client] = _Login(authorization, token, session)
        return session


def _basic(authorization: str) -> tuple[str, str]:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise Unauthenticated("only Basic authentication is offered")
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as err:
        raise Unauthenticated("malformed Basic credentials") from err
    name, colon, password = decoded.partition(":")
    if not colon:
        raise Unauthenticated("malformed Basic credentials")
    return name, password
