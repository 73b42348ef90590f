from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    id: int
    time_ms: int
    user_id: str | None
    user_name: str
    address: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    # Pass as `before_id` to get the next (older) page; null on the last page.
    next_before_id: int | None
