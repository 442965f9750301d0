from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventPublic(BaseModel):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None = Field(description="Who made the change; null for the system.")
    action: str = Field(description="What happened, e.g. user.update, token.revoke.")
    target_type: str
    target_id: str | None
    details: dict[str, Any]
