"""User management (admins) and the first-admin bootstrap."""

from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.audit.service import record
from app.core.errors import Conflict, NotFound
from app.core.pagination import SortKey, keyset_page, uuid_key
from app.core.security import MIN_PASSWORD, hash_password, verify_password
from app.models import AuditEvent, AuthSession, Role, User, new_id, utcnow
from app.users.schemas import UserCreate, UserUpdate


def get(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(col(User.email) == email)).first()


def list_users(
    session: Session, *, limit: int, cursor: str | None
) -> tuple[list[User], str | None]:
    return keyset_page(
        session,
        select(User),
        [SortKey(col(User.email), "email"), uuid_key(col(User.id))],
        limit=limit,
        cursor=cursor,
    )


def create(session: Session, *, data: UserCreate, actor: User | None) -> tuple[User, bool]:
    """Returns (user, created). A replay of the same create by the same admin is (user, False)."""
    if data.id is not None:
        existing = session.get(User, data.id)
        if existing is not None:
            if _same_create(session, existing, data, actor):
                return existing, False
            raise Conflict("A user with this id already exists with other content.")
    if by_email(session, data.email) is not None:
        raise Conflict("A user with this email already exists.")
    user = User(
        id=data.id or new_id(),
        email=data.email,
        name=data.name or data.email.split("@")[0],
        role=data.role,
        password_hash=hash_password(data.password),
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        raise Conflict("A user with this email or id already exists.") from None
    record(session, actor, "user.create", "user", user.id, email=user.email, role=user.role)
    return user, True


def _same_create(session: Session, user: User, data: UserCreate, actor: User | None) -> bool:
    creator = session.scalars(
        select(col(AuditEvent.actor_id)).where(
            col(AuditEvent.action) == "user.create", col(AuditEvent.target_id) == str(user.id)
        )
    ).first()
    return (
        (actor is not None and creator == actor.id)
        and user.email == data.email
        and user.role == data.role
        and (data.name is None or user.name == data.name)
        and verify_password(user.password_hash, data.password)
    )


def _active_admins(session: Session) -> int:
    # Row locks (PostgreSQL) so two concurrent demotions cannot both see "another admin left".
    stmt = (
        select(col(User.id)).where(col(User.role) == Role.admin, col(User.active)).with_for_update()
    )
    return len(session.scalars(stmt).all())


def update(session: Session, *, user: User, data: UserUpdate, actor: User) -> User:
    changes = data.model_dump(exclude_unset=True)
    loses_admin = (
        user.role == Role.admin
        and user.active
        and ((data.role is not None and data.role != Role.admin) or data.active is False)
    )
    if loses_admin and _active_admins(session) <= 1:
        raise Conflict("This is the last active admin; make another admin first.")
    if data.name is not None:
        user.name = data.name
    if data.role is not None:
        user.role = data.role
    if data.active is not None:
        user.active = data.active
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    if data.active is False or data.password is not None:
        # Sessions end at once; tokens stop because every request checks `active`.
        session.execute(delete(AuthSession).where(col(AuthSession.user_id) == user.id))
    user.updated_at = utcnow()
    session.add(user)
    session.flush()
    audited = {k: v for k, v in changes.items() if k != "password"}
    if "password" in changes:
        audited["password"] = "changed"
    record(session, actor, "user.update", "user", user.id, **audited)
    return user


def bootstrap_admin(session: Session, email: str, password: str) -> User | None:
    """Creates the first admin when no user exists at all. Raises ValueError when the email or
    password would be refused through the API (the message never holds the password)."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    try:
        data = UserCreate(email=email, password=password, role=Role.admin, name="Admin")
    except ValidationError as exc:
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors()}))
        raise ValueError(
            f"GEMBALOG_ADMIN_EMAIL/GEMBALOG_ADMIN_PASSWORD are not valid ({fields}): an email "
            f"address and a password of at least {MIN_PASSWORD} characters are needed."
        ) from None
    user = User(
        email=data.email, name="Admin", role=Role.admin, password_hash=hash_password(password)
    )
    try:
        with session.begin_nested():
            session.add(user)
    except IntegrityError:
        return None  # another process starting at the same time created it first
    record(
        session,
        None,
        "user.create",
        "user",
        user.id,
        email=user.email,
        role=user.role,
        bootstrap=True,
    )
    return user
