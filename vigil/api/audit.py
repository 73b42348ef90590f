"""The audit trail of the system: every server's, merged (vigil/api/fanout.py)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from vigil.api import fanout
from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.audit import AuditEntry, AuditPage
from vigil.auth.store import AuditFilter
from vigil.clock import MAX_TIME_MS

_CURSOR = r"^[0-9]{1,16}\.[0-9a-f]{1,64}\.[0-9]{1,18}$"  # time_ms.server_id.id
_LAST_ID = 2**62  # beyond any row id: "every entry of that millisecond"


def router(ctx: ApiContext) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["audit trail"])

    @api.get("/audit")
    async def audit(
        _: CallerDep,
        from_ms: Annotated[
            int | None, Query(ge=0, le=MAX_TIME_MS, description="from (inclusive)")
        ] = None,
        to_ms: Annotated[
            int | None, Query(ge=0, le=MAX_TIME_MS, description="until (exclusive)")
        ] = None,
        user: Annotated[str | None, Query(max_length=64, description="user name")] = None,
        action: Annotated[str | None, Query(max_length=64, description="e.g. login")] = None,
        before: Annotated[
            str | None, Query(max_length=120, pattern=_CURSOR, description="next page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> AuditPage:
        """The system's entries newest first (every server's), filtered by time range,
        user and action, a page at a time."""
        body = {"from_ms": from_ms, "to_ms": to_ms, "user": user, "action": action,
                "before": _cursor(before), "limit": limit}  # fmt: skip
        gathered = await fanout.everywhere(ctx, "audit", body)
        entries = sorted(
            (AuditEntry(server_id=server_id, **row) for server_id, answer in
             gathered.answers.items() for row in answer["entries"]),
            key=lambda e: (e.time_ms, e.server_id, e.id), reverse=True,
        )  # fmt: skip
        more = len(entries) > limit or any(a["more"] for a in gathered.answers.values())
        entries = entries[:limit]
        last = entries[-1] if entries and more else None
        return AuditPage(
            entries=entries,
            next_before=f"{last.time_ms}.{last.server_id}.{last.id}" if last else None,
            partial=bool(gathered.missing),
            missing_servers=gathered.missing,
        )

    return api


def _cursor(before: str | None) -> list[Any] | None:
    if before is None:
        return None
    time_ms, server_id, row_id = before.split(".")
    return [int(time_ms), server_id, int(row_id)]


@fanout.answers("audit")
async def audit_here(ctx: ApiContext, body: dict[str, Any]) -> dict[str, Any]:
    """This server's entries of a page: those after the cursor in the order (time, server,
    id), newest first; `more` when it holds more than the page."""
    older_than = None
    if body["before"] is not None:
        time_ms, server_id, row_id = body["before"]
        me = ctx.system.server_id
        # Later servers' entries of that very millisecond come before, earlier ones' after.
        row = row_id if server_id == me else (_LAST_ID if me < server_id else 0)
        older_than = (time_ms, row)
    rows = await ctx.audit.query(
        AuditFilter(from_ms=body["from_ms"], to_ms=body["to_ms"], user_name=body["user"],
                    action=body["action"], older_than=older_than, limit=body["limit"] + 1)
    )  # fmt: skip
    return {
        "entries": [vars(row) for row in rows[: body["limit"]]],
        "more": len(rows) > body["limit"],
    }
