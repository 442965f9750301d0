from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import Timestamp
from app.core.security import MAX_PASSWORD
from app.models import TokenScope
from app.users.schemas import Password, UserPublic

AnyPassword = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD)]


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(max_length=254)
    password: AnyPassword


class LoginResponse(BaseModel):
    user: UserPublic
    csrf_token: str = Field(description="Send as X-CSRF-Token on every POST/PUT/PATCH/DELETE.")


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: AnyPassword
    new_password: Password


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = Field(default=None, description="Optional client-chosen id.")
    name: str = Field(min_length=1, max_length=200, description="What the token is for.")
    scope: TokenScope = Field(description="read allows only safe methods; write allows all.")
    expires_at: Timestamp | None = Field(default=None, description="Must be in the future.")


class TokenPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    scope: TokenScope
    prefix: str = Field(description="The token's first characters, to recognise it.")
    user_id: uuid.UUID
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The secret. Shown once; only its hash is stored.")
