"""The permission table: one rule for every endpoint, checked before any handler runs.

`Access.authorize` is installed as a dependency of the whole application, so no route can
skip it, and `check_every_route_has_a_rule` refuses to build an app with a route the table
does not name. tests/test_permissions.py walks every route for every built-in role.
"""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.requests import HTTPConnection

from vigil.api.endpoints import WEBSOCKET, endpoints
from vigil.auth.audit import Actor
from vigil.auth.rights import Function, Operation
from vigil.auth.roles import Role
from vigil.auth.sessions import ActiveSession, Sessions
from vigil.auth.users import User, UserService
from vigil.errors import Forbidden, ServerUndefined, Unauthenticated
from vigil.system.service import SystemService

SESSION_COOKIE = "vigil_session"


@dataclass(frozen=True)
class Rule:
    login: bool = True
    function: Function | None = None
    operation: Operation | None = None
    # Most endpoints act on the system, which an undefined server does not have yet.
    needs_system: bool = True


OPEN = Rule(login=False, needs_system=False)
LOGGED_IN = Rule()

API = "/api/v1"
RTSP = "RTSP"  # the method of the RTSP server's URLs, which it checks here too
RTSP_LIVE = "rtsp:/cameras/{camera_id}/{stream}"
RTSP_ARCHIVE = "rtsp:/cameras/{camera_id}/{stream}?start="

RULES: dict[tuple[str, str], Rule] = {
    ("GET", f"{API}/server"): OPEN,
    ("GET", f"{API}/server/media"): Rule(function=Function.SETTINGS),
    ("POST", f"{API}/system"): OPEN,
    ("POST", f"{API}/system/join"): OPEN,
    ("GET", f"{API}/system/servers"): LOGGED_IN,
    ("GET", f"{API}/system/conflicts"): Rule(function=Function.SETTINGS),
    ("DELETE", f"{API}/system/servers/{{server_id}}"): Rule(operation=Operation.SYSTEM_EDIT),
    # The owner only, which the service checks: no role may be given it.
    ("POST", f"{API}/system/servers/{{server_id}}/detach"): Rule(operation=Operation.SYSTEM_EDIT),
    ("GET", f"{API}/system"): LOGGED_IN,
    ("PATCH", f"{API}/system"): Rule(operation=Operation.SYSTEM_EDIT),
    ("POST", f"{API}/login"): Rule(login=False),
    ("POST", f"{API}/logout"): LOGGED_IN,
    ("GET", f"{API}/me"): LOGGED_IN,
    ("PUT", f"{API}/me/password"): LOGGED_IN,
    ("GET", f"{API}/rights"): LOGGED_IN,
    ("GET", f"{API}/users"): Rule(function=Function.SETTINGS),
    ("POST", f"{API}/users"): Rule(operation=Operation.USER_ADD),
    ("GET", f"{API}/users/{{user_id}}"): Rule(function=Function.SETTINGS),
    ("PATCH", f"{API}/users/{{user_id}}"): Rule(operation=Operation.USER_EDIT),
    ("DELETE", f"{API}/users/{{user_id}}"): Rule(operation=Operation.USER_DELETE),
    ("GET", f"{API}/roles"): Rule(function=Function.SETTINGS),
    ("POST", f"{API}/roles"): Rule(operation=Operation.ROLE_ADD),
    ("GET", f"{API}/roles/{{role_id}}"): Rule(function=Function.SETTINGS),
    ("PATCH", f"{API}/roles/{{role_id}}"): Rule(operation=Operation.ROLE_EDIT),
    ("DELETE", f"{API}/roles/{{role_id}}"): Rule(operation=Operation.ROLE_DELETE),
    ("GET", f"{API}/audit"): Rule(function=Function.AUDIT_TRAIL),
    # Which cameras a role may see is checked per camera by the cameras router.
    ("GET", f"{API}/cameras"): LOGGED_IN,
    ("POST", f"{API}/cameras"): Rule(operation=Operation.CAMERA_ADD),
    # Discovery exists to pick cameras to add.
    ("GET", f"{API}/cameras/discovery"): Rule(operation=Operation.CAMERA_ADD),
    ("GET", f"{API}/cameras/{{camera_id}}"): LOGGED_IN,
    ("PATCH", f"{API}/cameras/{{camera_id}}"): Rule(operation=Operation.CAMERA_EDIT),
    ("DELETE", f"{API}/cameras/{{camera_id}}"): Rule(operation=Operation.CAMERA_DELETE),
    ("GET", f"{API}/cameras/{{camera_id}}/timeline"): Rule(function=Function.PLAYBACK),
    ("GET", f"{API}/cameras/{{camera_id}}/recordings"): Rule(function=Function.PLAYBACK),
    ("GET", f"{API}/cameras/{{camera_id}}/events/state"): Rule(function=Function.EVENT_LOG),
    # Seeing the camera is checked by the PTZ router; presets are part of using PTZ.
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/move"): Rule(function=Function.PTZ),
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/stop"): Rule(function=Function.PTZ),
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/absolute"): Rule(function=Function.PTZ),
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/relative"): Rule(function=Function.PTZ),
    ("GET", f"{API}/cameras/{{camera_id}}/ptz/presets"): Rule(function=Function.PTZ),
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/presets"): Rule(function=Function.PTZ),
    ("POST", f"{API}/cameras/{{camera_id}}/ptz/presets/{{token}}/go"): Rule(function=Function.PTZ),
    ("DELETE", f"{API}/cameras/{{camera_id}}/ptz/presets/{{token}}"): Rule(function=Function.PTZ),
    (WEBSOCKET, f"{API}/cameras/{{camera_id}}/live"): Rule(function=Function.LIVE_VIEW),
    # Many cameras on one socket: each watched camera is checked as the one above.
    (WEBSOCKET, f"{API}/live"): Rule(function=Function.LIVE_VIEW),
    # A picture now is live view; one at a recorded time is playback.
    ("GET", f"{API}/cameras/{{camera_id}}/snapshot"): Rule(function=Function.LIVE_VIEW),
    ("GET", f"{API}/cameras/{{camera_id}}/archive/snapshot"): Rule(function=Function.PLAYBACK),
    ("GET", f"{API}/timeline"): Rule(function=Function.PLAYBACK),
    (WEBSOCKET, f"{API}/playback"): Rule(function=Function.PLAYBACK),
    # Seeing the cameras is checked by the exports router; each user sees their own jobs.
    ("POST", f"{API}/exports"): Rule(function=Function.EXPORT),
    ("GET", f"{API}/exports"): Rule(function=Function.EXPORT),
    ("GET", f"{API}/exports/{{export_id}}"): Rule(function=Function.EXPORT),
    ("GET", f"{API}/exports/{{export_id}}/file"): Rule(function=Function.EXPORT),
    ("DELETE", f"{API}/exports/{{export_id}}"): Rule(function=Function.EXPORT),
    ("GET", f"{API}/cameras/{{camera_id}}/export"): Rule(function=Function.EXPORT),
    # What each user is sent is filtered per notification (vigil/notifications.py).
    (WEBSOCKET, f"{API}/notifications"): LOGGED_IN,
    # RTSP (vigil/api/rtsp.py): live and archive of a camera the role may see.
    (RTSP, RTSP_LIVE): Rule(function=Function.LIVE_VIEW),
    (RTSP, RTSP_ARCHIVE): Rule(function=Function.PLAYBACK),
    # Which layouts a user reaches is checked per layout by the layouts router: their own,
    # and the shared ones their role's resources name.
    ("GET", f"{API}/layouts"): Rule(function=Function.LIVE_VIEW),
    ("POST", f"{API}/layouts"): Rule(operation=Operation.LAYOUT_ADD),
    ("GET", f"{API}/layouts/{{layout_id}}"): Rule(function=Function.LIVE_VIEW),
    ("PATCH", f"{API}/layouts/{{layout_id}}"): Rule(operation=Operation.LAYOUT_EDIT),
    ("DELETE", f"{API}/layouts/{{layout_id}}"): Rule(operation=Operation.LAYOUT_DELETE),
    ("GET", f"{API}/storages"): Rule(function=Function.SETTINGS),
    ("POST", f"{API}/storages"): Rule(operation=Operation.STORAGE_EDIT),
    ("GET", f"{API}/storages/{{storage_id}}"): Rule(function=Function.SETTINGS),
    ("PATCH", f"{API}/storages/{{storage_id}}"): Rule(operation=Operation.STORAGE_EDIT),
    ("DELETE", f"{API}/storages/{{storage_id}}"): Rule(operation=Operation.STORAGE_EDIT),
    ("POST", f"{API}/storages/{{storage_id}}/rebuild"): Rule(operation=Operation.STORAGE_EDIT),
    # The web client's files: markup and code, no data (vigil/api/web.py).
    ("GET", "/"): OPEN,
    ("GET", "/app/{path}"): OPEN,
    # The API's description and the page that shows it (vigil/api/docs.py): no data either.
    ("GET", f"{API}/openapi.json"): OPEN,
    ("GET", f"{API}/docs"): OPEN,
    ("GET", f"{API}/docs/assets/{{name}}"): OPEN,
}


@dataclass(frozen=True)
class Caller:
    """The logged-in user making this request."""

    session: ActiveSession
    role: Role
    address: str

    @property
    def user(self) -> User:
        return self.session.user

    @property
    def actor(self) -> Actor:
        """Who this is, as the audit trail names them."""
        return Actor(self.user.id, self.user.record.name, self.address)


def client_address(connection: HTTPConnection) -> str:
    return connection.client.host if connection.client else "unknown"


def token_of(connection: HTTPConnection) -> str | None:
    """A bearer token, else the session cookie (which browsers also send with a WebSocket's
    opening handshake, where scripts cannot set headers)."""
    scheme, _, credentials = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials:
        return credentials.strip()
    return connection.cookies.get(SESSION_COOKIE)


def _check_origin(connection: HTTPConnection) -> None:
    """A WebSocket opened by a page must be opened by one of this server's own pages.

    Browsers send the session cookie with any page's WebSocket to this host (another port,
    another site's page, a subdomain: same-site cookies do not tell ports apart), and a
    WebSocket is not held back by CORS; the `Origin` header they always send is what tells.
    Clients that send none (API clients, with a bearer token) are not pages.
    """
    origin = connection.headers.get("origin")
    if origin is None:
        return
    page = urlsplit(origin)
    scheme = "https" if connection.url.scheme == "wss" else "http"
    if page.scheme != scheme or page.netloc.lower() != connection.headers.get("host", "").lower():
        raise Forbidden(
            "this WebSocket was opened by a page of another origin than this server's own"
        )


def _endpoint_of(connection: HTTPConnection) -> tuple[str, str]:
    """(method, path template) as the table names it; a WebSocket's method is `WS`. The
    template is OpenAPI's, without converters (`/app/{path}` for `/app/{path:path}`)."""
    route = connection.scope.get("route")
    if connection.scope["type"] == "websocket":
        path = route.path_format if isinstance(route, APIWebSocketRoute) else connection.url.path
        return WEBSOCKET, path
    path = route.path_format if isinstance(route, APIRoute) else connection.url.path
    return connection.scope["method"], path


class Access:
    def __init__(
        self,
        rules: dict[tuple[str, str], Rule],
        system: SystemService,
        sessions: Sessions,
        users: UserService,
    ) -> None:
        self._rules = rules
        self._system = system
        self._sessions = sessions
        self._users = users

    async def authorize(self, connection: HTTPConnection) -> None:
        """For every request and every WebSocket's opening handshake."""
        if connection.scope["type"] == "websocket":
            _check_origin(connection)
        rule = self.rule(_endpoint_of(connection))
        if rule.needs_system and self._system.state() == "undefined":
            raise ServerUndefined(
                "this server is not part of a system yet: create one with POST /api/v1/system"
            )
        if not rule.login:
            return
        token = token_of(connection)
        session = await self._sessions.resolve(token) if token else None
        if session is None:
            raise Unauthenticated("log in first: the session is missing, ended or expired")
        role = self.role_allowed(rule, session)
        connection.state.caller = Caller(session, role, client_address(connection))

    def rule(self, endpoint: tuple[str, str]) -> Rule:
        rule = self._rules.get(endpoint)
        if rule is None:
            raise Forbidden("no permission rule covers this endpoint")
        return rule

    def role_allowed(self, rule: Rule, session: ActiveSession) -> Role:
        """The session's role, if it has the rights `rule` asks for; Forbidden otherwise."""
        role = self._users.role_of(session.user)
        if rule.function is not None and rule.function not in role.rights.functions:
            raise Forbidden(f"your role lacks the right to use {rule.function.value}")
        if rule.operation is not None and rule.operation not in role.rights.operations:
            raise Forbidden(f"your role lacks the right to {rule.operation.value}")
        return role


def current_caller(connection: HTTPConnection) -> Caller:
    caller = getattr(connection.state, "caller", None)
    if not isinstance(caller, Caller):
        raise Unauthenticated("log in first")
    return caller


CallerDep = Annotated[Caller, Depends(current_caller)]


def check_every_route_has_a_rule(app: FastAPI, rules: dict[tuple[str, str], Rule]) -> None:
    """Refuse an app that offers an endpoint the table does not name (WebSockets included)."""
    missing = [f"{method} {path}" for method, path in endpoints(app) if (method, path) not in rules]
    if missing:
        raise RuntimeError(f"endpoints without a permission rule: {', '.join(sorted(missing))}")
