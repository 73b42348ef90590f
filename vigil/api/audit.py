"""The audit trail of this server."""

from typing import Annotated

from fastapi import APIRouter, Query

from vigil.api.access import CallerDep
from vigil.api.context import ApiContext
from vigil.api.schemas.audit import AuditEntry, AuditPage
from vigil.api.schemas.common import MAX_TIME_MS
from vigil.auth.store import AuditFilter

# Beyond any real time and within SQLite's 64-bit integers.


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
        before_id: Annotated[
            int | None, Query(ge=1, le=MAX_TIME_MS, description="next page")
        ] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> AuditPage:
        """Entries newest first, filtered by time range, user and action, a page at a time."""
        rows = await ctx.audit.query(
            AuditFilter(
                from_ms=from_ms,
                to_ms=to_ms,
                user_name=user,
                action=action,
                before_id=before_id,
                limit=limit + 1,
            )
        )
        entries = [AuditEntry(**row.__dict__) for row in rows[:limit]]
        return AuditPage(
            entries=entries, next_before_id=entries[-1].id if len(rows) > limit else None
        )

    return api
