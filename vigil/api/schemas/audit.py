from typing import Any

from pydantic import BaseModel


class AuditEntry(BaseModel):
    server_id: str  # the server it happened on
    id: int  # on that server
    time_ms: int
    user_id: str | None
    user_name: str
    address: str
    action: str
    target: str | None
    details: dict[str, Any] | None


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    # Pass as `before` to get the next (older) page; null on the last page.
    next_before: str | None
    partial: bool = False  # some server of the system gave no answer: see missing_servers
    missing_servers: list[str] = []
