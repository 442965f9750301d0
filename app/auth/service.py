"""Login with throttling, sessions, password changes and API tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.audit.service import record
from app.auth.principal import Principal
from app.auth.schemas import TokenCreate
from app.core.config import Settings
from app.core.errors import Conflict, Invalid, NotFound, TooManyRequests
from app.core.pagination import keyset_page, time_key, uuid_key
from app.core.security import (
    digest,
    dummy_hash,
    hash_password,
    needs_rehash,
    new_secret,
    verify_password,
)
from app.models import ApiToken, AuthSession, LoginFailure, Role, User, new_id, utcnow
from app.users.schemas import MAX_EMAIL
from app.users.service import by_email

WINDOW = timedelta(minutes=1)
TOKEN_PREFIX = "gmb_"


def _retry_after(
    session: Session, column: Any, value: str, limit: int, now: datetime
) -> int | None:
    """Seconds until the window has fewer than `limit` failures, or None when not throttled."""
    at = col(LoginFailure.at)
    stmt = select(at).where(column == value, at > now - WINDOW).order_by(at.desc()).limit(limit)
    times = list(session.scalars(stmt))
    if len(times) < limit:
        return None
    oldest = times[-1]
    return max(1, int((oldest + WINDOW - now).total_seconds()) + 1)


def login(
    session: Session, settings: Settings, *, email: str, password: str, address: str
) -> tuple[User, str] | None:
    """Returns (user, session secret), or None after recording a failure: the caller commits
    that record before answering 401, so the throttle sees it."""
    # lower() can lengthen a string beyond the column ("İ" → "i̇"); no stored email is longer.
    email = email.strip().lower()[:MAX_EMAIL]
    now = utcnow()
    for column, value, limit, what in (
        (LoginFailure.email, email, settings.login_account_limit, "this account"),
        (LoginFailure.address, address, settings.login_address_limit, "your network address"),
    ):
        wait = _retry_after(session, column, value, limit, now)
        if wait is not None:
            raise TooManyRequests(
                f"Too many failed sign-ins for {what}; try again in {wait} s.", retry_after=wait
            )
    user = by_email(session, email)
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not ok or not user.active:
        session.add(LoginFailure(email=email, address=address, at=now))
        # Keep the table small: anything older than the window is useless.
        session.execute(delete(LoginFailure).where(col(LoginFailure.at) < now - timedelta(hours=1)))
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    session.execute(delete(AuthSession).where(col(AuthSession.expires_at) < now))
    secret = new_secret()
    session.add(
        AuthSession(
            token_hash=digest(secret),
            user_id=user.id,
            expires_at=now + timedelta(days=settings.session_days),
        )
    )
    session.flush()
    return user, secret


def logout(session: Session, secret: str) -> None:
    session.execute(delete(AuthSession).where(col(AuthSession.token_hash) == digest(secret)))


def change_password(session: Session, principal: Principal, *, current: str, new: str) -> None:
    user = principal.user
    if not verify_password(user.password_hash, current):
        raise Invalid("current_password", "is not your current password")
    user.password_hash = hash_password(new)
    user.updated_at = utcnow()
    session.add(user)
    # Every other browser session ends; the one making the change stays signed in.
    stmt = delete(AuthSession).where(col(AuthSession.user_id) == user.id)
    if principal.session_secret:
        stmt = stmt.where(col(AuthSession.token_hash) != digest(principal.session_secret))
    session.execute(stmt)
    record(session, user, "user.password", "user", user.id)


def create_token(
    session: Session, principal: Principal, data: TokenCreate
) -> tuple[ApiToken, str | None]:
    """Returns (token, secret); the secret is None on an idempotent replay (it is never shown
    twice)."""
    user = principal.user
    if data.expires_at is not None and data.expires_at <= utcnow():
        raise Invalid("expires_at", "must be in the future")
    if data.id is not None:
        existing = session.get(ApiToken, data.id)
        if existing is not None:
            return _replay(existing, user, data), None
    secret = new_secret(TOKEN_PREFIX)
    token = ApiToken(
        id=data.id or new_id(),
        user_id=user.id,
        name=data.name,
        scope=data.scope,
        token_hash=digest(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        expires_at=data.expires_at,
    )
    try:
        with session.begin_nested():
            session.add(token)
    except IntegrityError:
        # The same id committed by a concurrent request since the lookup above.
        existing = session.get(ApiToken, token.id)
        if existing is None:
            raise
        return _replay(existing, user, data), None
    record(session, user, "token.create", "token", token.id, name=token.name, scope=token.scope)
    return token, secret


def _replay(existing: ApiToken, user: User, data: TokenCreate) -> ApiToken:
    same = (
        existing.user_id == user.id
        and existing.name == data.name
        and existing.scope == data.scope
        and existing.expires_at == (data.expires_at.astimezone(UTC) if data.expires_at else None)
    )
    if not same:
        raise Conflict("A token with this id already exists with other content.")
    return existing


def list_tokens(
    session: Session, principal: Principal, *, limit: int, cursor: str | None
) -> tuple[list[ApiToken], str | None]:
    stmt = select(ApiToken).where(col(ApiToken.user_id) == principal.user.id)
    keys = [
        time_key(col(ApiToken.created_at), "created_at", desc=True),
        uuid_key(col(ApiToken.id), desc=True),
    ]
    return keyset_page(session, stmt, keys, limit=limit, cursor=cursor)


def revoke_token(session: Session, principal: Principal, token_id: uuid.UUID) -> None:
    token = session.get(ApiToken, token_id)
    # Admins may revoke anyone's token; everyone else sees only their own (others are 404).
    if token is None or (token.user_id != principal.user.id and principal.user.role != Role.admin):
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        record(session, principal.user, "token.revoke", "token", token.id, owner_id=token.user_id)
