"""Errors that reach a client.

Each carries a stable machine-readable `code`, a message meant for a person, and optionally the
input `field` at fault. The API maps each class to an HTTP status in one place
(`vigil.api.errors`); the domain packages never speak HTTP.
"""

from typing import Any


class VigilError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra


class InvalidInput(VigilError):
    code = "invalid_input"


class NotFound(VigilError):
    code = "not_found"


class Conflict(VigilError):
    code = "conflict"


class LimitReached(VigilError):
    code = "limit_reached"


class Unauthenticated(VigilError):
    code = "unauthenticated"


class Forbidden(VigilError):
    code = "forbidden"


class AccountLocked(VigilError):
    code = "account_locked"


class TooManyAttempts(VigilError):
    """Logins from the caller's address keep failing: it must wait (`retry_after_s`)."""

    code = "too_many_attempts"


class ServerUndefined(VigilError):
    """The server has no system yet, so system APIs have nothing to act on."""

    code = "server_undefined"


class StorageFailure(VigilError):
    """Persisting a change failed; the change was rolled back."""

    code = "storage_failure"


class Relayed(VigilError):
    """An error another server of the system answered with, of a kind only it knows (a
    camera's, say): its code and HTTP status as that server gave them."""

    def __init__(self, message: str, *, code: str, status: int, **extra: Any) -> None:
        super().__init__(message, **extra)
        self.code = code
        self.status = status


class PeerUnreachable(VigilError):
    """Another server of the system (or one to join) did not answer, or not as one."""

    code = "server_unreachable"
