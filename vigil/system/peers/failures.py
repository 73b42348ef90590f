"""Errors across a peer connection: a server's `VigilError` sent as a `Failure` and raised
again on the asking server as the same class, so a client gets the same answer whichever
server it asked."""

from vigil import errors
from vigil.system.peers.messages import Failure

_CLASSES: dict[str, type[errors.VigilError]] = {
    error.code: error
    for error in (
        errors.InvalidInput,
        errors.NotFound,
        errors.Conflict,
        errors.LimitReached,
        errors.Unauthenticated,
        errors.Forbidden,
        errors.AccountLocked,
        errors.ServerUndefined,
        errors.StorageFailure,
        errors.PeerUnreachable,
    )
}


def failure_of(err: errors.VigilError) -> Failure:
    status = err.status if isinstance(err, errors.Relayed) else None
    return Failure(code=err.code, message=err.message, field=err.field, extra=err.extra,
                   status=status)  # fmt: skip


def error_of(failure: Failure) -> errors.VigilError:
    """The error to raise here: of its own class when this server knows it, else `Relayed`
    with the code and status the other server gave (502 if it gave none)."""
    known = _CLASSES.get(failure.code)
    if known is not None:
        return known(failure.message, field=failure.field, **failure.extra)
    return errors.Relayed(failure.message, code=failure.code, status=failure.status or 502,
                          field=failure.field, **failure.extra)  # fmt: skip
