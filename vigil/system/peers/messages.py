"""What servers say to each other over a peer connection, besides document sync.

Text frames carry these JSON messages; binary frames carry document sync (`sync.py`).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Challenge(_Message):
    """The answering server's first words: who it is, and a nonce to sign."""

    type: Literal["challenge"] = "challenge"
    server_id: str
    system_id: str | None
    nonce: str


class Hello(_Message):
    """A member server's answer: its id and its signature over the challenge."""

    type: Literal["hello"] = "hello"
    server_id: str
    system_id: str
    signature: str


class JoinRequest(_Message):
    """An undefined server asking to join, with the owner's credentials and what the system
    lists about a server; the signature proves it holds the key it brings."""

    type: Literal["join"] = "join"
    owner_name: str
    owner_password: str
    server_id: str
    server_name: str
    public_key: str
    addresses: list[str]
    peer_port: int
    version: str
    signature: str


class Welcome(_Message):
    type: Literal["welcome"] = "welcome"


class Joined(_Message):
    """The whole system document and the system key that seals its secrets (base64), for the
    joining server to become a copy of."""

    type: Literal["joined"] = "joined"
    document: str
    system_key: str


class Refused(_Message):
    """A join or hello refused: the error as the API would answer it."""

    type: Literal["refused"] = "refused"
    code: str
    message: str
    field: str | None = None
    extra: dict[str, Any] = {}


class Failure(_Message):
    """An error as the API would answer it: what a refusal or a failed request carries."""

    code: str
    message: str
    field: str | None = None
    extra: dict[str, Any] = {}
    status: int | None = None  # the HTTP status, for a code the asking server may not know


class Ask(_Message):
    """A request to a peer, on behalf of a client of this server whose rights were checked
    here: `kind` names what is asked (`audit`, `timeline`…), `body` its arguments."""

    type: Literal["ask"] = "ask"
    id: int
    kind: str
    body: dict[str, Any]


class Answer(_Message):
    type: Literal["answer"] = "answer"
    id: int
    body: dict[str, Any] | None = None
    failure: Failure | None = None


class Status(_Message):
    """What a server says of itself every few seconds: not state, so not in the document."""

    type: Literal["status"] = "status"
    started_ms: int
    cameras: int
    cameras_online: int
    load: float


Message = Annotated[
    Challenge | Hello | JoinRequest | Welcome | Joined | Refused | Status | Ask | Answer,
    Field(discriminator="type"),
]
MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)


def signed_text(system_id: str, listener_id: str, dialer_id: str, nonce: str) -> bytes:
    """What a dialling server signs: the nonce bound to both ends and the system, so that a
    signature is good for this one connection only."""
    return "\0".join(("vigil peer", system_id, listener_id, dialer_id, nonce)).encode()
