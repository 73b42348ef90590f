"""The RTSP gate's refusals: each error class has its RTSP status, and an error without one is
the server's failure, not a refusal."""

import base64
from typing import Any, cast

import pytest

from vigil import errors
from vigil.api.rtsp import RtspAccess
from vigil.media.rtsp.server import Connection
from vigil.media.rtsp.service import Refused, Target

CREDENTIALS = "Basic " + base64.b64encode(b"dana:a password").decode()
LIVE = Target("camera", "main", None)


class _FailingLogin:
    """A login service whose every login fails with `error`."""

    def __init__(self, error: errors.VigilError) -> None:
        self.error = error

    async def login(self, *_: Any, **__: Any) -> Any:
        raise self.error


def _gate(error: errors.VigilError) -> RtspAccess:
    unused = cast(Any, None)  # a failed login reaches neither rights nor cameras
    return RtspAccess(unused, cast(Any, _FailingLogin(error)), unused, unused)


def _client() -> Connection:
    return Connection(cast(Any, None), "192.0.2.7", None)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.Unauthenticated("wrong user name or password"), 401),
        (errors.AccountLocked("locked"), 403),
        (errors.TooManyAttempts("wait", retry_after_s=1), 503),
        (errors.Forbidden("disabled"), 403),
        (errors.NotFound("no camera"), 404),
        (errors.InvalidInput("bad"), 400),
        (errors.LimitReached("too many"), 453),
        (errors.StorageFailure("disk"), 503),
    ],
)
async def test_an_error_of_the_login_is_refused_with_its_rtsp_status(
    error: errors.VigilError, status: int
) -> None:
    with pytest.raises(Refused) as refused:
        await _gate(error).admit(_client(), CREDENTIALS, LIVE)
    assert refused.value.status == status


async def test_an_error_without_an_rtsp_status_is_a_failure_not_a_refusal() -> None:
    with pytest.raises(errors.Conflict):
        await _gate(errors.Conflict("odd")).admit(_client(), CREDENTIALS, LIVE)
