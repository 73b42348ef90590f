"""Field types shared by the request models: names, passwords, e-mail addresses."""

import unicodedata
from pathlib import PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from vigil.auth.users import validate_password
from vigil.clock import MAX_TIME_MS
from vigil.errors import InvalidInput

EpochMs = Annotated[int, Field(ge=0, le=MAX_TIME_MS)]  # a time: milliseconds since 1970, UTC

# Control, format (e.g. bidirectional overrides), private-use and surrogate code points: the
# last are what undecodable bytes and lone "\ud800" escapes turn into, and cannot be stored.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs"})


def _text(max_length: int, *, required: bool) -> AfterValidator:
    def clean(value: str) -> str:
        value = unicodedata.normalize("NFC", value.strip())
        if required and not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must have at most {max_length} characters")
        if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in value):
            raise ValueError("must not contain control characters or invalid Unicode")
        return value

    return AfterValidator(clean)


def _unicode(max_length: int) -> AfterValidator:
    """Any text that can be stored: no surrogates, bounded length."""

    def check(value: str) -> str:
        if len(value) > max_length:
            raise ValueError(f"must have at most {max_length} characters")
        if any(unicodedata.category(c) == "Cs" for c in value):
            raise ValueError("must be valid Unicode")
        return value

    return AfterValidator(check)


def _email(value: str) -> str:
    if value and (value.count("@") != 1 or value.startswith("@") or value.endswith("@")):
        raise ValueError("must be an e-mail address such as name@example.com")
    return value


Name = Annotated[str, _text(64, required=True)]
Description = Annotated[str, _text(256, required=False)]
FullName = Annotated[str, _text(128, required=False)]
Email = Annotated[str, _text(254, required=False), AfterValidator(_email)]
Password = Annotated[str, _unicode(256), AfterValidator(validate_password)]
Url = Annotated[str, _unicode(2048)]


def _absolute_path(value: str) -> str:
    path = PurePosixPath(value)
    if not path.is_absolute():
        raise ValueError("give an absolute path, e.g. /mnt/nas1/vigil")
    if ".." in path.parts:
        raise ValueError("the path may not contain '..'")
    return str(path)


FolderPath = Annotated[str, _text(1024, required=True), AfterValidator(_absolute_path)]
Secret = Annotated[str, _unicode(128)]
# What a login form sends: checked only for being storable text, so that every attempt with
# a name that cannot exist gets the same answer as a wrong password.
LoginText = Annotated[str, _unicode(256)]


class Request(BaseModel):
    """Base of request bodies: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def changes_of(update: BaseModel) -> dict[str, object]:
    """The fields a PATCH body sets. `null` is refused: every field here has a value."""
    fields = update.model_dump(exclude_unset=True)
    for key, value in fields.items():
        if value is None:
            raise InvalidInput(f"{key}: must not be null; leave it out to keep it", field=key)
    if not fields:
        raise InvalidInput("the body names no field to change", field="body")
    return fields
