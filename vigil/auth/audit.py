"""The audit trail: who did what, when and from where, kept by the server it happened on."""

import logging
from dataclasses import dataclass
from typing import Any

from vigil.auth import store
from vigil.auth.store import AuditFilter, AuditRow
from vigil.clock import Clock
from vigil.state import Database

logger = logging.getLogger(__name__)


def audit_changes(
    before: dict[str, Any], after: dict[str, Any], secrets: frozenset[str]
) -> dict[str, Any]:
    """What changed between two dumps of a record, for the audit trail; secrets masked."""
    changed = {key for key in after if before.get(key) != after[key]}
    return {
        "before": {k: "(secret)" if k in secrets else before.get(k) for k in changed},
        "after": {k: "(secret)" if k in secrets else after[k] for k in changed},
    }


@dataclass(frozen=True)
class Actor:
    """Who did it, as the audit trail names them. `user_id` is None for unknown names."""

    user_id: str | None
    user_name: str
    address: str


class AuditTrail:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self,
        actor: Actor,
        action: str,
        *,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        row = AuditRow(
            id=0,
            time_ms=self._clock.now_ms(),
            user_id=actor.user_id,
            user_name=actor.user_name,
            address=actor.address,
            action=action,
            target=target,
            details=details,
        )
        await self._db.run(lambda conn: store.insert_audit(conn, row))
        logger.info(
            "audit",
            extra={
                "action": action,
                "user": actor.user_name,
                "address": actor.address,
                "target": target,
            },
        )

    async def query(self, audit_filter: AuditFilter) -> list[AuditRow]:
        return await self._db.run(lambda conn: store.query_audit(conn, audit_filter))
