"""Pain points: creation from the field (duplicates become aliases), typo-tolerant search,
edits, merges. Tags always point at a surviving pain point: aliases are resolved on write and a
merge re-points tags, aliases, improvement links and earlier merges to the survivor."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.audit.service import record
from app.core.errors import Conflict, Invalid, NotFound
from app.core.idempotency import payload_hash
from app.core.pagination import decode_cursor, encode_cursor
from app.models import (
    ImprovementPainPoint,
    Layer,
    Observation,
    ObservationTag,
    PainPoint,
    PainPointAlias,
    PainPointStatus,
    Stage,
    User,
    new_id,
    utcnow,
)
from app.pain_points.schemas import PainPointCreate, PainPointPublic, PainPointUpdate

# Typo-tolerant title search. A title scores the better of
#  - rapidfuzz WRatio over the whole strings (good when the query is most of a title), and
#  - word-wise: each query word's best fuzz.ratio against the title's words (a word typed as a
#    prefix of a title word counts at least 85), averaged over the query words.
# WRatio alone discounts a short query inside a long title (×0.6 once the title is 8× longer),
# so "recipt" would fall to ~50 against a 50-character title; word-wise it stays at 92
# ("recipt" vs "receipt"). One typo in a 5–8 letter word scores 72–92; unrelated titles stay
# below 65 on our samples, hence the cut-off of 70 (of 100; match_score is score / 100).
# The final score is 0.9 × the better of the two plus 0.1 × WRatio, so closer whole titles win
# ties.
MATCH_CUTOFF = 70.0
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_title(title: str) -> str:
    """The duplicate-detection key: case, spacing and punctuation are ignored altogether, so
    "Card-reader  broken!" and "card reader broken" (and "cardreader broken") are one title."""
    folded = unicodedata.normalize("NFKC", title).casefold()
    return _NON_WORD.sub("", folded)[:200]


def _words(text: str) -> list[str]:
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).split()


def _word_score(word: str, title_words: list[str]) -> float:
    best = 0.0
    for tw in title_words:
        score = float(fuzz.ratio(word, tw))
        if len(word) >= 2 and tw.startswith(word):
            score = max(score, 85.0 + 15.0 * len(word) / len(tw))
        best = max(best, score)
    return best


def match_score(q: str, title: str) -> float:
    """0–100: how well `title` matches the search `q` (see the comment above)."""
    q_words, t_words = _words(q), _words(title)
    if not q_words or not t_words:
        return 0.0
    whole = float(fuzz.WRatio(" ".join(q_words), " ".join(t_words)))
    wordwise = sum(_word_score(w, t_words) for w in q_words) / len(q_words)
    # A tenth from the whole-title score ranks "Receipt" above "No receipt given" for "recipt".
    return 0.9 * max(whole, wordwise) + 0.1 * whole


@dataclass(frozen=True)
class Stats:
    observation_count: int = 0
    last_seen_at: datetime | None = None


def stats(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Stats]:
    if not ids:
        return {}
    tag, obs = ObservationTag, Observation
    stmt = (
        select(col(tag.pain_point_id), func.count(), func.max(col(obs.observed_at)))
        .join(obs, col(obs.id) == col(tag.observation_id))
        .where(col(tag.pain_point_id).in_(ids), col(obs.deleted_at).is_(None))
        .group_by(col(tag.pain_point_id))
    )
    out = {}
    for pid, count, last in session.execute(stmt):
        out[pid] = Stats(count, last)
    return out


def public(pp: PainPoint, st: Stats, score: float | None = None) -> PainPointPublic:
    return PainPointPublic(
        id=pp.id,
        journey_id=pp.journey_id,
        stage_id=pp.stage_id,
        title=pp.title,
        description=pp.description,
        layer=Layer(pp.layer) if pp.layer else None,
        status=PainPointStatus(pp.status),
        merged_into_id=pp.merged_into_id,
        observation_count=st.observation_count,
        last_seen_at=st.last_seen_at,
        created_by=pp.created_by,
        created_at=pp.created_at,
        updated_at=pp.updated_at,
        match_score=score,
    )


def public_one(session: Session, pp: PainPoint) -> PainPointPublic:
    return public(pp, stats(session, [pp.id]).get(pp.id, Stats()))


def resolve(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PainPoint]:
    """Maps each given id — canonical, alias, or merged — to its surviving pain point (open or
    archived). Unknown ids are absent. Two queries at most: merges are flattened (nothing is
    merged into a merged pain point) and aliases are re-pointed to the survivor on merge."""
    wanted = set(ids)
    if not wanted:
        return {}
    out: dict[uuid.UUID, PainPoint] = {}
    target = aliased(PainPoint)
    direct = (
        select(PainPoint, target)
        .outerjoin(target, col(target.id) == col(PainPoint.merged_into_id))
        .where(col(PainPoint.id).in_(wanted))
    )
    for pp, survivor in session.execute(direct):
        if pp.status != PainPointStatus.merged:
            out[pp.id] = pp
        elif survivor is not None:
            out[pp.id] = survivor
    missing = wanted - out.keys()
    if missing:
        via = aliased(PainPoint)
        stmt = (
            select(col(PainPointAlias.alias_id), PainPoint, via)
            .join(PainPoint, col(PainPoint.id) == col(PainPointAlias.pain_point_id))
            .outerjoin(via, col(via.id) == col(PainPoint.merged_into_id))
            .where(col(PainPointAlias.alias_id).in_(missing))
        )
        for alias_id, pp, survivor in session.execute(stmt):
            # An alias normally points at a survivor; a merged target is followed one hop.
            found = survivor if pp.status == PainPointStatus.merged else pp
            if found is not None:
                out[alias_id] = found
    return out


def get(session: Session, pain_point_id: uuid.UUID) -> PainPoint:
    pp = resolve(session, [pain_point_id]).get(pain_point_id)
    if pp is None:
        raise NotFound("No such pain point.")
    return pp


def get_direct(session: Session, pain_point_id: uuid.UUID) -> PainPoint:
    """The row itself, even when merged (merges act on it)."""
    pp = session.get(PainPoint, pain_point_id)
    if pp is None:
        pp = get(session, pain_point_id)
    return pp


def _open_by_key(session: Session, stage_id: uuid.UUID, key: str) -> PainPoint | None:
    stmt = select(PainPoint).where(
        col(PainPoint.stage_id) == stage_id,
        col(PainPoint.title_key) == key,
        col(PainPoint.status) == PainPointStatus.open,
    )
    return session.scalars(stmt).first()


def _add_alias(
    session: Session, alias_id: uuid.UUID, target: PainPoint, user: User, digest: str
) -> None:
    try:
        with session.begin_nested():
            session.add(
                PainPointAlias(
                    alias_id=alias_id,
                    pain_point_id=target.id,
                    payload_hash=digest,
                    created_by=user.id,
                )
            )
            session.flush()
    except IntegrityError:
        # The same duplicate create, replayed concurrently, is fine; anything else is not.
        if _replay(session, alias_id, digest, user) is None:
            raise Conflict("A pain point with this id already exists with other content.") from None


def create(session: Session, *, data: PainPointCreate, user: User) -> tuple[PainPoint, bool]:
    """Returns (pain point, created). A replay answers what the first create answered (the
    survivor, should it have been merged since); a title that duplicates an open pain point of
    the stage answers that one and remembers the new id as its alias."""
    key = normalise_title(data.title)
    if not key:
        raise Invalid("title", "must contain a letter or a digit")
    digest = payload_hash(data)
    if data.id is not None:
        replay = _replay(session, data.id, digest, user)
        if replay is not None:
            return replay, False
    stage = session.get(Stage, data.stage_id)
    if stage is None:
        raise Invalid("stage_id", "no such stage")
    for attempt in range(3):
        if attempt and data.id is not None:
            # A concurrent create with our id may have committed meanwhile.
            replay = _replay(session, data.id, digest, user)
            if replay is not None:
                return replay, False
        existing = _open_by_key(session, stage.id, key)
        if existing is not None:
            if data.id is not None:
                _add_alias(session, data.id, existing, user, digest)
            return existing, False
        pp = PainPoint(
            id=data.id or new_id(),
            journey_id=stage.journey_id,
            stage_id=stage.id,
            title=data.title.strip(),
            title_key=key,
            description=data.description,
            layer=data.layer,
            payload_hash=digest,
            created_by=user.id,
        )
        try:
            with session.begin_nested():
                session.add(pp)
                session.flush()
        except IntegrityError:
            session.expunge(pp)
            continue  # a concurrent create of the same title (or id) won: look again
        return pp, True
    raise Conflict("A pain point with this id already exists with other content.")


def _replay(session: Session, given_id: uuid.UUID, digest: str, user: User) -> PainPoint | None:
    """The survivor when `given_id` was created (or aliased) by `user` from an equivalent
    payload; None when the id is unused; Conflict when it is used otherwise."""
    own = session.get(PainPoint, given_id)
    alias = session.get(PainPointAlias, given_id) if own is None else None
    if own is None and alias is None:
        return None
    stored = own or alias
    assert stored is not None
    if stored.created_by == user.id and stored.payload_hash == digest:
        return resolve(session, [given_id]).get(given_id)
    raise Conflict("A pain point with this id already exists with other content.")


def search(
    session: Session,
    *,
    journey_id: uuid.UUID | None,
    stage_id: uuid.UUID | None,
    status: PainPointStatus,
    q: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[PainPointPublic], str | None]:
    where = [col(PainPoint.status) == status]
    if journey_id is not None:
        where.append(col(PainPoint.journey_id) == journey_id)
    if stage_id is not None:
        where.append(col(PainPoint.stage_id) == stage_id)
    if q is not None and q.strip():
        return _fuzzy(session, select(PainPoint).where(*where), q, limit, cursor)
    return _by_count(session, where, limit, cursor)


def _by_count(
    session: Session, where: list[Any], limit: int, cursor: str | None
) -> tuple[list[PainPointPublic], str | None]:
    """Two queries: the page's (id, title, count, last sighting), grouped by the pain point
    itself — so the plan stays index lookups pain point → tags → observation even when the
    planner's row estimates are off — and narrow, so the grouping sorts little; then the page's
    rows by id."""
    tag, obs = ObservationTag, Observation
    n = func.count(col(obs.id))
    pid, title = col(PainPoint.id), col(PainPoint.title)
    base = (
        select(pid, title, n.label("n"), func.max(col(obs.observed_at)).label("last"))
        .outerjoin(tag, col(tag.pain_point_id) == pid)
        .outerjoin(obs, and_(col(obs.id) == col(tag.observation_id), col(obs.deleted_at).is_(None)))
        .where(*where)
        .group_by(pid, title)
    )
    after = decode_cursor(cursor, 3)
    if after is not None:
        try:
            cn, ct, cid = int(after[0]), str(after[1]), uuid.UUID(str(after[2]))
            if not 0 <= cn < 2**63:
                raise ValueError(cn)
        except (ValueError, TypeError, OverflowError):
            raise Invalid("cursor", "is not a cursor this list issued") from None
        base = base.having(
            (n < cn) | ((n == cn) & (title > ct)) | ((n == cn) & (title == ct) & (pid > cid))
        )
    rows = session.execute(base.order_by(n.desc(), title, pid).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    by_id = {
        pp.id: pp for pp in session.scalars(select(PainPoint).where(pid.in_([r[0] for r in rows])))
    }
    items = [public(by_id[r[0]], Stats(r[2], r[3])) for r in rows]
    nxt = encode_cursor([rows[-1][2], rows[-1][1], str(rows[-1][0])]) if more else None
    return items, nxt


def _fuzzy(
    session: Session, stmt: Any, q: str, limit: int, cursor: str | None
) -> tuple[list[PainPointPublic], str | None]:
    candidates = list(session.scalars(stmt))
    by_id = {pp.id: pp for pp in candidates}
    scored = ((match_score(q, pp.title), pp) for pp in candidates)
    ranked = sorted(
        ((score, pp.title, str(pp.id)) for score, pp in scored if score >= MATCH_CUTOFF),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    after = decode_cursor(cursor, 3)
    if after is not None:
        try:
            last = (-float(after[0]), str(after[1]), str(after[2]))
        except (ValueError, TypeError):
            raise Invalid("cursor", "is not a cursor this list issued") from None
        ranked = [t for t in ranked if (-t[0], t[1], t[2]) > last]
    page, more = ranked[:limit], len(ranked) > limit
    ids = [uuid.UUID(pid) for _, _, pid in page]
    st = stats(session, ids)
    items = [
        public(by_id[i], st.get(i, Stats()), score / 100)
        for (score, _, _), i in zip(page, ids, strict=True)
    ]
    nxt = encode_cursor(list(page[-1])) if more else None
    return items, nxt


def update_pain_point(
    session: Session, *, pp: PainPoint, data: PainPointUpdate, user: User
) -> PainPoint:
    changes = data.model_dump(exclude_unset=True)
    if pp.status == PainPointStatus.merged:
        raise Conflict("This pain point was merged; edit the one it was merged into.")
    if "title" in changes and data.title is not None:
        key = normalise_title(data.title)
        if not key:
            raise Invalid("title", "must contain letters or digits")
        pp.title, pp.title_key = data.title.strip(), key
    if "description" in changes and data.description is not None:
        pp.description = data.description
    if "layer" in changes:
        pp.layer = data.layer
    if "stage_id" in changes:
        if data.stage_id is None:
            raise Invalid("stage_id", "may not be null")
        stage = session.get(Stage, data.stage_id)
        if stage is None:
            raise Invalid("stage_id", "no such stage")
        if stage.journey_id != pp.journey_id:
            raise Invalid("stage_id", "must be a stage of the same journey")
        pp.stage_id = stage.id
    if "status" in changes:
        if data.status not in (PainPointStatus.open, PainPointStatus.archived):
            raise Invalid("status", "may be open or archived; merge through /merge")
        pp.status = data.status
    pp.updated_at = utcnow()
    try:
        with session.begin_nested():
            session.add(pp)
            session.flush()
    except IntegrityError:
        raise Conflict("An open pain point with this title already exists in that stage.") from None
    action = (
        "pain_point.archive"
        if changes.get("status") == PainPointStatus.archived
        else "pain_point.update"
    )
    record(
        session,
        user,
        action,
        "pain_point",
        pp.id,
        **{k: str(v) if v is not None else None for k, v in changes.items()},
    )
    return pp


def merge(session: Session, *, source_id: uuid.UUID, into_id: uuid.UUID, user: User) -> PainPoint:
    """Merges `source` into `into`; returns the survivor."""
    rows = {
        pp.id: pp
        for pp in session.scalars(
            select(PainPoint)
            .where(col(PainPoint.id).in_([source_id, into_id]))
            .order_by(col(PainPoint.id))  # one lock order: concurrent merges cannot deadlock
            .with_for_update()
        )
    }
    source = rows.get(source_id) or get_direct(session, source_id)
    into = rows.get(into_id) or get(session, into_id)
    if source.id == into.id:
        raise Conflict("A pain point cannot be merged into itself.")
    if source.status == PainPointStatus.merged:
        raise Conflict("This pain point was already merged.")
    if into.status != PainPointStatus.open:
        raise Conflict(f"The target pain point is {into.status}; merge into an open one.")
    if source.journey_id != into.journey_id:
        raise Conflict("Pain points of different journeys cannot be merged.")
    a, b = source.id, into.id
    t, other = ObservationTag.__table__, aliased(ObservationTag.__table__)  # type: ignore[attr-defined]
    # An observation that tagged both keeps one tag, with the higher severity.
    higher = (
        select(other.c.severity)
        .where(other.c.observation_id == t.c.observation_id, other.c.pain_point_id == a)
        .scalar_subquery()
    )
    session.execute(
        update(t)
        .where(
            t.c.pain_point_id == b,
            exists().where(
                and_(
                    other.c.observation_id == t.c.observation_id,
                    other.c.pain_point_id == a,
                    other.c.severity > t.c.severity,
                )
            ),
        )
        .values(severity=higher)
    )
    both = select(other.c.observation_id).where(other.c.pain_point_id == b)
    session.execute(delete(t).where(t.c.pain_point_id == a, t.c.observation_id.in_(both)))
    session.execute(update(t).where(t.c.pain_point_id == a).values(pain_point_id=b))
    session.execute(
        update(PainPointAlias).where(col(PainPointAlias.pain_point_id) == a).values(pain_point_id=b)
    )
    session.execute(
        update(PainPoint).where(col(PainPoint.merged_into_id) == a).values(merged_into_id=b)
    )
    link, olink = ImprovementPainPoint.__table__, aliased(ImprovementPainPoint.__table__)  # type: ignore[attr-defined]
    linked_to_b = select(olink.c.improvement_id).where(olink.c.pain_point_id == b)
    session.execute(
        delete(link).where(link.c.pain_point_id == a, link.c.improvement_id.in_(linked_to_b))
    )
    session.execute(update(link).where(link.c.pain_point_id == a).values(pain_point_id=b))
    source.status, source.merged_into_id, source.updated_at = PainPointStatus.merged, b, utcnow()
    into.updated_at = utcnow()
    session.add_all([source, into])
    session.flush()
    record(session, user, "pain_point.merge", "pain_point", a, into_id=b)
    return into
