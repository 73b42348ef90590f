"""ONVIF scopes (`onvif://www.onvif.org/name/Gate_1`): how devices describe themselves, in
GetScopes answers and WS-Discovery matches alike."""

from collections.abc import Iterable
from urllib.parse import unquote

_PREFIX = "onvif://www.onvif.org/"


def scope_value(scopes: Iterable[str], kind: str) -> str | None:
    """The first `kind` scope's value (`name`, `hardware`, `location/...`), decoded."""
    prefix = f"{_PREFIX}{kind}/"
    for scope in scopes:
        if scope.startswith(prefix) and len(scope) > len(prefix):
            return unquote(scope[len(prefix) :])
    return None
