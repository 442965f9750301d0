from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class AttachmentPublic(BaseModel):
    """An uploaded image as stored: re-encoded, metadata removed, orientation applied."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The attachment's id (the client's, when it sent one).")
    content_type: str = Field(description="image/jpeg, image/png or image/webp.")
    size: int = Field(description="Bytes of the stored image.")
    width: int = Field(description="Pixels of the stored image, orientation applied.")
    height: int = Field(description="Pixels of the stored image, orientation applied.")
    sha256: str = Field(description="SHA-256 (hex) of the stored image; also its ETag.")
    created_at: datetime = Field(description="When it was uploaded (UTC).")
