"""Attachments: uploading images, who may see them, linking them to observations, and removing
the ones never linked."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.attachments.images import Encoded, thumbnail_of
from app.attachments.storage import Storage, new_key
from app.core.errors import Conflict, Invalid, NotFound
from app.models import Attachment, Observation, Role, User, new_id, utcnow

log = logging.getLogger("gembalog.attachments")

_CONFLICT = "An attachment with this id already exists with other content."


def _replay(existing: Attachment, user: User, upload_sha256: str) -> Attachment:
    if existing.uploader_id == user.id and existing.upload_sha256 == upload_sha256:
        return existing
    raise Conflict(_CONFLICT)


def check_replay(
    session: Session, *, user: User, attachment_id: uuid.UUID | None, upload_sha256: str
) -> Attachment | None:
    """The stored attachment when this upload replays one (same id, user and bytes), None when
    the id is new; 409 when the id is taken by something else. Cheap: runs before decoding."""
    if attachment_id is None:
        return None
    existing = session.get(Attachment, attachment_id)
    return None if existing is None else _replay(existing, user, upload_sha256)


def create(
    session: Session,
    storage: Storage,
    *,
    user: User,
    attachment_id: uuid.UUID | None,
    upload_sha256: str,
    image: Encoded,
) -> tuple[Attachment, bool]:
    """Stores the files, then the row; (attachment, created). The files are written first under
    fresh random keys so a row never points at a missing or partial file; the caller removes
    them (`discard`) if its transaction does not commit."""
    existing = check_replay(
        session, user=user, attachment_id=attachment_id, upload_sha256=upload_sha256
    )
    if existing is not None:
        return existing, False
    row = Attachment(
        id=attachment_id or new_id(),
        uploader_id=user.id,
        content_type=image.content_type,
        size=len(image.data),
        width=image.width,
        height=image.height,
        sha256=image.sha256,
        storage_key=new_key(image.ext),
        thumbnail_key=new_key(image.ext, thumbnail=True),
        upload_sha256=upload_sha256,
    )
    try:
        storage.write(row.storage_key, image.data)
        storage.write(row.thumbnail_key, image.thumbnail)
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # A concurrent upload of the same id won the race.
        discard(storage, row)
        session.expunge(row)
        existing = session.get(Attachment, row.id)
        if existing is None:
            raise
        return _replay(existing, user, upload_sha256), False
    except BaseException:
        discard(storage, row)
        raise
    return row, True


def discard(storage: Storage, row: Attachment) -> None:
    for key in (row.storage_key, row.thumbnail_key):
        if key:
            try:
                storage.delete(key)
            except OSError:
                log.warning("could not remove attachment file %s", key, exc_info=True)


def get_visible(session: Session, user: User, attachment_id: uuid.UUID) -> Attachment:
    """The uploader, managers and admins see an attachment; once its observation is deleted,
    only admins. Everyone else gets 404."""
    found = session.execute(
        select(Attachment, col(Observation.deleted_at))
        .outerjoin(Observation, col(Observation.id) == col(Attachment.observation_id))
        .where(col(Attachment.id) == attachment_id)
    ).first()
    if found is not None:
        att: Attachment = found[0]
        deleted_at = found[1]
        if user.role == Role.admin:
            return att
        if deleted_at is None and (att.uploader_id == user.id or user.is_manager):
            return att
    raise NotFound("No such attachment.")


def read_image(storage: Storage, att: Attachment) -> bytes:
    try:
        return storage.read(att.storage_key)
    except FileNotFoundError:
        log.error("attachment %s: file %s is missing", att.id, att.storage_key)
        raise NotFound("No such attachment.") from None


def read_thumbnail(storage: Storage, att: Attachment) -> bytes:
    if att.thumbnail_key:
        try:
            return storage.read(att.thumbnail_key)
        except FileNotFoundError:
            log.warning("attachment %s: thumbnail missing; remade", att.id)
    return thumbnail_of(read_image(storage, att), att.content_type)


@dataclass(frozen=True, slots=True)
class Removed:
    id: uuid.UUID
    storage_key: str
    thumbnail_key: str
    size: int
    created_at: datetime


def remove_orphans(
    session: Session, *, older_than: timedelta, now: datetime | None = None
) -> list[Removed]:
    """Deletes the rows of attachments never linked to an observation and uploaded more than
    `older_than` ago (an offline phone may still link a younger one). One statement, so a
    concurrent link either wins (the row stays) or finds it gone. Flushes; the caller commits
    and then calls `purge_files`."""
    cutoff = (now or utcnow()) - older_than
    stmt = (
        delete(Attachment)
        .where(col(Attachment.observation_id).is_(None), col(Attachment.created_at) < cutoff)
        .returning(
            col(Attachment.id),
            col(Attachment.storage_key),
            col(Attachment.thumbnail_key),
            col(Attachment.size),
            col(Attachment.created_at),
        )
    )
    removed = [Removed(*r) for r in session.execute(stmt)]
    session.flush()
    return sorted(removed, key=lambda r: (r.created_at, r.id))


def purge_files(storage: Storage, removed: Sequence[Removed]) -> None:
    """Removes the files of rows already deleted (after the commit: a failed commit must not
    leave rows whose files are gone)."""
    for r in removed:
        for key in (r.storage_key, r.thumbnail_key):
            if key:
                try:
                    storage.delete(key)
                except OSError:
                    log.warning("could not remove attachment file %s", key, exc_info=True)


def claim(
    session: Session, *, user: User, observation_id: uuid.UUID, attachment_ids: Sequence[uuid.UUID]
) -> None:
    """Links exactly `attachment_ids` (in that order) to the observation. Each must be the
    caller's own upload, or already linked to this observation; one linked elsewhere is refused."""
    wanted = list(attachment_ids)
    rows = {}
    if wanted:
        stmt = select(Attachment).where(col(Attachment.id).in_(wanted)).with_for_update()
        rows = {a.id: a for a in session.scalars(stmt)}
    for i, aid in enumerate(wanted):
        att = rows.get(aid)
        if att is None or (att.uploader_id != user.id and att.observation_id != observation_id):
            raise Invalid(f"attachment_ids.{i}", "no such attachment of yours")
        if att.observation_id not in (None, observation_id):
            raise Invalid(f"attachment_ids.{i}", "already attached to another observation")
        if wanted.index(aid) != i:
            raise Invalid(f"attachment_ids.{i}", "listed twice")
    session.execute(
        update(Attachment)
        .where(col(Attachment.observation_id) == observation_id, col(Attachment.id).not_in(wanted))
        .values(observation_id=None, position=0)
    )
    for i, aid in enumerate(wanted):
        rows[aid].observation_id = observation_id
        rows[aid].position = i
        session.add(rows[aid])
    session.flush()


def ids_for(
    session: Session, observation_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if observation_ids:
        stmt = (
            select(col(Attachment.observation_id), col(Attachment.id))
            .where(col(Attachment.observation_id).in_(observation_ids))
            .order_by(col(Attachment.observation_id), col(Attachment.position))
        )
        for oid, aid in session.execute(stmt):
            out[oid].append(aid)
    return out
