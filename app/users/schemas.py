from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.security import MAX_PASSWORD, MIN_PASSWORD
from app.models import Role

MAX_EMAIL = 254


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > MAX_EMAIL:  # lower() can lengthen a string ("İ" → "i̇")
        raise ValueError(f"must be at most {MAX_EMAIL} characters")
    local, at, domain = value.partition("@")
    if not at or not local or "." not in domain.strip(".") or any(c.isspace() for c in value):
        raise ValueError("is not an email address")
    return value


Email = Annotated[str, Field(max_length=MAX_EMAIL), AfterValidator(normalise_email)]
Password = Annotated[
    str,
    Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, description="At least 10 characters."),
]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    name: str
    role: Role = Field(description="observer, manager or admin.")
    active: bool = Field(description="A deactivated user can neither sign in nor use tokens.")
    created_at: datetime
    updated_at: datetime


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    email: Email
    password: Password
    role: Role
    name: Name | None = Field(
        default=None, description="Defaults to the part of the email before @."
    )


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    role: Role | None = None
    active: bool | None = None
    password: Password | None = None
