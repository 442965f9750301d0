"""Sites: where observations happen."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.audit.service import record
from app.core.errors import Conflict, NotFound
from app.core.idempotency import payload_hash
from app.core.pagination import SortKey, keyset_page, uuid_key
from app.models import Site, User, new_id, utcnow
from app.sites.schemas import SiteCreate, SiteUpdate


def get(session: Session, site_id: uuid.UUID) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return site


def list_sites(
    session: Session, *, archived: bool | None, limit: int, cursor: str | None
) -> tuple[list[Site], str | None]:
    stmt = select(Site)
    if archived is not None:
        stmt = stmt.where(col(Site.archived) == archived)
    keys = [SortKey(col(Site.name), "name"), uuid_key(col(Site.id))]
    return keyset_page(session, stmt, keys, limit=limit, cursor=cursor)


def create(session: Session, *, data: SiteCreate, user: User) -> tuple[Site, bool]:
    digest = payload_hash(data)
    if data.id is not None:
        existing = session.get(Site, data.id)
        if existing is not None:
            same = existing.created_by == user.id and (
                existing.payload_hash == digest
                if existing.payload_hash
                # created before digests were kept: compare what is stored
                else (
                    (existing.name, existing.kind, existing.address)
                    == (data.name, data.kind, data.address)
                )
            )
            if same:
                return existing, False
            raise Conflict("A site with this id already exists with other content.")
    site = Site(
        id=data.id or new_id(),
        name=data.name,
        kind=data.kind,
        address=data.address,
        created_by=user.id,
        payload_hash=digest,
    )
    try:
        with session.begin_nested():
            session.add(site)
            session.flush()
    except IntegrityError:
        raise Conflict("A site with this name or id already exists.") from None
    record(session, user, "site.create", "site", site.id, name=site.name)
    return site, True


def update(session: Session, *, site: Site, data: SiteUpdate, user: User) -> Site:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(site, key, value)
    site.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.add(site)
            session.flush()
    except IntegrityError:
        raise Conflict("A site with this name already exists.") from None
    record(session, user, "site.update", "site", site.id, **changes)
    return site
