"""Queries that span the servers of a system: each online server answers for what it holds
(its archive, its audit trail, its conflict log), and the server the client asked merges;
and requests only one server can do (`at`: the one that records a camera reaches it).

A kind of query is a function answering for this server (`@answers("kind")`); peers call
the same function through the peer connection (`register`), so a server answers a peer
exactly as it answers itself. The client's rights are checked by the server it asked,
before it fans out: peers trust each other's checks (they are members, docs/design/system.md).
A server that is offline or does not answer in time is named in `missing_servers`, and the
answer is `partial`.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from vigil.api.context import ApiContext
from vigil.api.errors import status_of
from vigil.errors import PeerUnreachable, Relayed, VigilError

Answer = Callable[[ApiContext, dict[str, Any]], Awaitable[dict[str, Any]]]
_ANSWERS: dict[str, Answer] = {}


def answers(kind: str) -> Callable[[Answer], Answer]:
    """Make `answer(ctx, body)` this server's answer to queries of `kind`."""

    def register_kind(answer: Answer) -> Answer:
        _ANSWERS[kind] = answer
        return answer

    return register_kind


def register(ctx: ApiContext) -> None:
    """Answer peers' queries of every kind."""
    if ctx.mesh is None:
        return
    for kind, answer in _ANSWERS.items():
        ctx.mesh.answer(kind, _for_peers(ctx, answer))


def _for_peers(
    ctx: ApiContext, answer: Answer
) -> Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]:
    async def answer_peer(_peer: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return await answer(ctx, body)
        except VigilError as err:  # with the status this server would answer with
            if isinstance(err, Relayed):
                raise
            raise Relayed(err.message, code=err.code, status=status_of(err), field=err.field,
                          **err.extra) from err  # fmt: skip

    return answer_peer


@dataclass(frozen=True)
class Gathered:
    answers: dict[str, dict[str, Any]]  # by server id, this server's among them
    missing: list[str]  # servers of the system that gave no answer


def _others(ctx: ApiContext) -> list[str]:
    """The servers of the system to ask besides this one (none without peers)."""
    if ctx.mesh is None:
        return []
    me = ctx.system.server_id
    return [server_id for server_id, record in ctx.system.servers()
            if server_id != me and not record.hidden]  # fmt: skip


async def everywhere(ctx: ApiContext, kind: str, body: dict[str, Any]) -> Gathered:
    here = await _ANSWERS[kind](ctx, body)
    me = ctx.system.server_id
    others = _others(ctx)
    if ctx.mesh is None or not others:
        return Gathered({me: here}, [])
    found, missing = await ctx.mesh.ask_all(others, kind, body)
    return Gathered({**found, me: here}, missing)


async def at(ctx: ApiContext, server_id: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A query answered by one server: this one, or a peer (PeerUnreachable if it is
    offline). For what only that server can do: reach its cameras, read its archive."""
    if server_id == ctx.system.server_id:
        return await _ANSWERS[kind](ctx, body)
    if ctx.mesh is None:
        raise PeerUnreachable("the camera is served by another server, and this one has no peers")
    return await ctx.mesh.ask(server_id, kind, body)


async def first_of(ctx: ApiContext, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """This server's answer; failing that, the first other server's that has one (what only
    one archive holds). This server's error when no server answers."""
    try:
        return await _ANSWERS[kind](ctx, body)
    except VigilError:
        others = _others(ctx)
        if ctx.mesh is None or not others:
            raise
        found, _ = await ctx.mesh.ask_all(others, kind, body)
        if not found:
            raise
        return next(iter(found.values()))


def union(spans: list[list[int]]) -> list[tuple[int, int]]:
    """Intervals (start, end) from several servers as one sorted list, overlaps merged."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted((s, e) for s, e in spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
