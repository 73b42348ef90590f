"""Field types shared by the request models: names, passwords, e-mail addresses."""

import unicodedata
from pathlib import PurePosixPath
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from vigil.auth.users import validate_password
from vigil.clock import MAX_TIME_MS
from vigil.errors import InvalidInput

EpochMs = Annotated[int, Field(ge=0, le=MAX_TIME_MS)]  # a time: milliseconds since 1970, UTC

# Control, format (bidirectional overrides, zero-width spaces) and private-use characters of
# the Basic Multilingual Plane, and surrogates anywhere: the last are what undecodable bytes
# and lone "\ud800" escapes turn into, and cannot be stored. The other planes' format and
# private-use characters are let in: tags that draw flags, a few scripts' marks, icons; none
# hides or reorders text, and a description's pattern could not name them (it reads a
# character beyond the first plane as two surrogates).
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co"})
_FIRST_PLANE_END = 0x10000


def _forbidden(character: str) -> bool:
    category = unicodedata.category(character)
    return category == "Cs" or (
        category in _FORBIDDEN_CATEGORIES and ord(character) < _FIRST_PLANE_END
    )


def _text(max_length: int, *, required: bool) -> AfterValidator:
    def clean(value: str) -> str:
        if len(value) > max_length:  # as sent: what the description's maxLength counts
            raise ValueError(f"must have at most {max_length} characters")
        value = unicodedata.normalize("NFC", value.strip())
        if required and not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must have at most {max_length} characters")
        if any(map(_forbidden, value)):
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


def _forbidden_class() -> str:
    """A regular-expression class of the characters `_text` refuses but the surrogates,
    which a JSON string holds only in pairs (characters of the other planes)."""
    ranges: list[tuple[int, int]] = []
    for code in range(_FIRST_PLANE_END):
        if unicodedata.category(chr(code)) in _FORBIDDEN_CATEGORIES:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        f"\\u{low:04x}" if low == high else f"\\u{low:04x}-\\u{high:04x}" for low, high in ranges
    )


_FORBIDDEN_CLASS = _forbidden_class()
_ALLOWED = f"[^{_FORBIDDEN_CLASS}]"
_VISIBLE = f"[^\\s{_FORBIDDEN_CLASS}]"


def _declared(max_length: int, *, required: bool) -> Any:
    """What `_text` checks, as the API's description says it: the checks stay `_text`'s (its
    messages name the rule), the description only says them."""
    pattern = f"^{_ALLOWED}*{_VISIBLE}{_ALLOWED}*$" if required else f"^{_ALLOWED}*$"
    limits = {"minLength": 1} if required else {}
    return Field(json_schema_extra={**limits, "maxLength": max_length, "pattern": pattern})


Name = Annotated[str, _declared(64, required=True), _text(64, required=True)]
Description = Annotated[str, _declared(256, required=False), _text(256, required=False)]
FullName = Annotated[str, _declared(128, required=False), _text(128, required=False)]
# `_email`'s rule, declared on the text as sent (`_text` trims it first): empty, or one @
# with something else than white space on each side.
_EMAIL_PATTERN = r"^(\s*|\s*[^@\s][^@]*@[^@]*[^@\s]\s*)$"
Email = Annotated[
    str,
    _declared(254, required=False),
    Field(json_schema_extra={"allOf": [{"pattern": _EMAIL_PATTERN}]}),
    _text(254, required=False),
    AfterValidator(_email),
]
# validate_password's rule, declared: 8 to 256 characters, not only white space.
Password = Annotated[
    str,
    Field(json_schema_extra={"minLength": 8, "maxLength": 256, "pattern": "\\S"}),
    _unicode(256),
    AfterValidator(validate_password),
]
Url = Annotated[str, _unicode(2048)]


def _absolute_path(value: str) -> str:
    path = PurePosixPath(value)
    if not path.is_absolute():
        raise ValueError("give an absolute path, e.g. /mnt/nas1/vigil")
    if ".." in path.parts:
        raise ValueError("the path may not contain '..'")
    return str(path)


FolderPath = Annotated[
    str,
    _declared(1024, required=True),
    Field(json_schema_extra={"pattern": f"^/{_ALLOWED}*$"}),
    _text(1024, required=True),
    AfterValidator(_absolute_path),
]
Secret = Annotated[str, _unicode(128)]
# What a login form sends: checked only for being storable text, so that every attempt with
# a name that cannot exist gets the same answer as a wrong password.
LoginText = Annotated[str, _unicode(256)]


class Request(BaseModel):
    """Base of request bodies: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _without_null(schema: dict[str, Any]) -> None:
    """A PATCH body's description as `changes_of` takes it: no field may be null, and at
    least one is given."""
    for prop in schema.get("properties", {}).values():
        kinds = prop.get("anyOf")
        if kinds is not None:
            kept = [kind for kind in kinds if kind.get("type") != "null"]
            prop.pop("anyOf")
            prop.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
        if prop.get("default", 0) is None:
            prop.pop("default")
    schema["minProperties"] = 1


class Patch(Request):
    """Base of PATCH bodies: only the fields given change (`changes_of`)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_without_null)


def changes_of(update: BaseModel) -> dict[str, object]:
    """The fields a PATCH body sets. `null` is refused: every field here has a value."""
    fields = update.model_dump(exclude_unset=True)
    for key, value in fields.items():
        if value is None:
            raise InvalidInput(f"{key}: must not be null; leave it out to keep it", field=key)
    if not fields:
        raise InvalidInput("the body names no field to change", field="body")
    return fields
