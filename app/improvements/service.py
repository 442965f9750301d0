"""Improvements: countermeasures linked to pain points, their workflow, their measured effect,
and what the backlog needs from them (links and regressions).

Decisions (see also the OpenAPI descriptions):
- Workflow: proposed → planned → in_progress → done → verified; proposed, planned or
  in_progress → dropped; done or verified → in_progress (reopen). Anything else is 409; a PATCH
  that sends the current status is not a move and changes nothing.
- Timestamps: started_at is set when it first enters in_progress and then kept (also on reopen
  and drop); done_at is set each time it becomes done; verified_at when it becomes verified.
  Reopening clears done_at and verified_at: the effect is measured from the completion that
  stands, and a reopened improvement no longer counts as verified. A create or PATCH may give a
  timestamp explicitly (to record work done before it was logged) only while the resulting
  status holds it; none may lie more than 10 minutes ahead, and started_at ≤ done_at ≤
  verified_at.
- Links are stored as surviving pain point ids; reads resolve merged ids again, so a link left
  on a merged id still shows the survivor."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.audit.service import record
from app.core.errors import Conflict, Invalid, NotFound
from app.core.idempotency import payload_hash
from app.core.pagination import keyset_page, time_key, uuid_key
from app.improvements import queries
from app.improvements.schemas import (
    EffectWindow,
    ImprovementCreate,
    ImprovementEffect,
    ImprovementPublic,
    ImprovementRef,
    ImprovementUpdate,
)
from app.models import (
    Improvement,
    ImprovementPainPoint,
    ImprovementStatus,
    User,
    new_id,
    utcnow,
)
from app.pain_points.service import resolve

S = ImprovementStatus

MOVES: dict[ImprovementStatus, frozenset[ImprovementStatus]] = {
    S.proposed: frozenset({S.planned, S.dropped}),
    S.planned: frozenset({S.in_progress, S.dropped}),
    S.in_progress: frozenset({S.done, S.dropped}),
    S.done: frozenset({S.verified, S.in_progress}),
    S.verified: frozenset({S.in_progress}),
    S.dropped: frozenset(),
}
_ORDER = list(ImprovementStatus)

# Which statuses hold each server-managed timestamp (and so accept it explicitly).
HOLDS: dict[str, frozenset[ImprovementStatus]] = {
    "started_at": frozenset({S.in_progress, S.done, S.verified}),
    "done_at": frozenset({S.done, S.verified}),
    "verified_at": frozenset({S.verified}),
}
TIMESTAMPS = ("started_at", "done_at", "verified_at")
FUTURE_TOLERANCE = timedelta(minutes=10)

# The effect's enough_data rule.
DEFAULT_WINDOW_DAYS = 28
MIN_OBSERVATIONS = 10
ALPHA = 0.05
# Regressions: a verified improvement is judged only once this long has passed since
# verified_at (a rate over a couple of days is noise).
REGRESSION_MIN_ELAPSED = timedelta(days=7)


def allowed_moves(status: ImprovementStatus) -> list[ImprovementStatus]:
    return sorted(MOVES[status], key=_ORDER.index)


# ---------------------------------------------------------------- reads


def link_map(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    if ids:
        for imp_id, pp_id in session.execute(queries.linked_pain_points(ids)):
            out[imp_id].add(pp_id)
    return {k: sorted(v, key=str) for k, v in out.items()}


def public(imp: Improvement, pain_point_ids: list[uuid.UUID]) -> ImprovementPublic:
    status = ImprovementStatus(imp.status)
    return ImprovementPublic(
        id=imp.id,
        title=imp.title,
        description=imp.description,
        hypothesis=imp.hypothesis,
        pain_point_ids=pain_point_ids,
        status=status,
        allowed_moves=allowed_moves(status),
        owner_id=imp.owner_id,
        due_on=imp.due_on,
        started_at=imp.started_at,
        done_at=imp.done_at,
        verified_at=imp.verified_at,
        created_by=imp.created_by,
        created_at=imp.created_at,
        updated_at=imp.updated_at,
    )


def public_one(session: Session, imp: Improvement) -> ImprovementPublic:
    return public(imp, link_map(session, [imp.id]).get(imp.id, []))


def get(session: Session, improvement_id: uuid.UUID, *, for_update: bool = False) -> Improvement:
    """With for_update the row is locked until the request commits, so concurrent moves are
    judged one after the other (SQLite writers are serialised anyway)."""
    imp = session.get(Improvement, improvement_id, with_for_update=for_update)
    if imp is None:
        raise NotFound("No such improvement.")
    return imp


def list_improvements(
    session: Session,
    *,
    status: ImprovementStatus | None,
    pain_point_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ImprovementPublic], str | None]:
    """Newest first."""
    stmt = select(Improvement)
    if status is not None:
        stmt = stmt.where(col(Improvement.status) == status)
    if pain_point_id is not None:
        found = resolve(session, [pain_point_id]).get(pain_point_id)
        target = found.id if found else new_id()  # an unknown id matches nothing
        stmt = stmt.where(col(Improvement.id).in_(queries.improvements_linked_to(target)))
    c = Improvement.__table__.c  # type: ignore[attr-defined]
    rows, nxt = keyset_page(
        session,
        stmt,
        [time_key(c.created_at, "created_at", desc=True), uuid_key(c.id, desc=True)],
        limit=limit,
        cursor=cursor,
    )
    links = link_map(session, [r.id for r in rows])
    return [public(r, links.get(r.id, [])) for r in rows], nxt


# ---------------------------------------------------------------- writes


def _resolve_links(session: Session, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    found = resolve(session, ids)
    out: list[uuid.UUID] = []
    for i, given in enumerate(ids):
        pp = found.get(given)
        if pp is None:
            raise Invalid(f"pain_point_ids.{i}", "no such pain point")
        if pp.id not in out:  # two aliases of one pain point link it once
            out.append(pp.id)
    return out


def _check_owner(session: Session, owner_id: uuid.UUID | None) -> None:
    if owner_id is None:
        return
    owner = session.get(User, owner_id)
    if owner is None or not owner.active:
        raise Invalid("owner_id", "must be an active user")


def _apply_timestamps(imp: Improvement, given: dict[str, Any], now: datetime) -> None:
    """Explicit timestamps, then the invariants every status keeps."""
    status = ImprovementStatus(imp.status)
    for name in TIMESTAMPS:
        if name in given:
            if status not in HOLDS[name]:
                holders = ", ".join(s.value for s in sorted(HOLDS[name], key=_ORDER.index))
                raise Invalid(name, f"can only be set while the status is {holders}")
            value = given[name]
            if value > now + FUTURE_TOLERANCE:
                raise Invalid(name, "may not lie in the future")
            setattr(imp, name, value)
    started, done, verified = imp.started_at, imp.done_at, imp.verified_at
    if started is not None and done is not None and started > done:
        field = "started_at" if "started_at" in given else "done_at"
        raise Invalid(field, "started_at must not be later than done_at")
    if done is not None and verified is not None and done > verified:
        field = "done_at" if "done_at" in given else "verified_at"
        raise Invalid(field, "done_at must not be later than verified_at")


def _fill_for_create(imp: Improvement, given: dict[str, Any], now: datetime) -> None:
    """A create straight into a later status: a missing timestamp the status holds takes the
    next later one given (started_at = done_at when only done_at is given), else now."""
    status = ImprovementStatus(imp.status)
    later: datetime | None = None
    for name in reversed(TIMESTAMPS):
        if name in given:
            later = given[name]
        elif status in HOLDS[name]:
            setattr(imp, name, later or now)


def create(session: Session, *, data: ImprovementCreate, user: User) -> tuple[Improvement, bool]:
    """Returns (improvement, created). The same user re-sending an equivalent payload under
    the same id gets the stored one (created False); anything else under that id is a 409."""
    canonical = data.model_copy(
        update={"pain_point_ids": sorted(set(data.pain_point_ids), key=str)}
    )
    digest = payload_hash(canonical)
    if data.id is not None:
        existing = session.get(Improvement, data.id)
        if existing is not None:
            return _replayed(existing, user, digest), False
    links = _resolve_links(session, data.pain_point_ids)
    _check_owner(session, data.owner_id)
    now = utcnow()
    given = {n: getattr(data, n) for n in TIMESTAMPS if getattr(data, n) is not None}
    imp = Improvement(
        id=data.id or new_id(),
        title=data.title,
        description=data.description,
        hypothesis=data.hypothesis,
        status=data.status,
        owner_id=data.owner_id,
        due_on=data.due_on,
        created_by=user.id,
        payload_hash=digest,
        created_at=now,
        updated_at=now,
    )
    _apply_timestamps(imp, given, now)
    _fill_for_create(imp, given, now)
    try:
        with session.begin_nested():
            session.add(imp)
            session.flush()
    except IntegrityError:
        if imp in session:
            session.expunge(imp)
        existing = session.get(Improvement, imp.id)
        if existing is None:
            raise
        return _replayed(existing, user, digest), False
    session.execute(
        insert(ImprovementPainPoint),
        [{"improvement_id": imp.id, "pain_point_id": p} for p in links],
    )
    record(
        session,
        user,
        "improvement.create",
        "improvement",
        imp.id,
        title=imp.title,
        status=imp.status,
        pain_point_ids=links,
        owner_id=imp.owner_id,
    )
    return imp, True


def _replayed(existing: Improvement, user: User, digest: str) -> Improvement:
    if existing.created_by != user.id or existing.payload_hash != digest:
        raise Conflict("An improvement with this id already exists with other content.")
    return existing


def update(
    session: Session, *, imp: Improvement, data: ImprovementUpdate, user: User
) -> Improvement:
    sent = data.model_dump(exclude_unset=True)
    now = utcnow()
    changes: dict[str, Any] = {}
    old_status = ImprovementStatus(imp.status)
    new_status = data.status if data.status is not None else old_status
    if new_status != old_status:
        if new_status not in MOVES[old_status]:
            allowed = ", ".join(s.value for s in allowed_moves(old_status)) or "none"
            raise Conflict(
                f"An improvement cannot move from {old_status.value} to {new_status.value}; "
                f"from {old_status.value} it may move to: {allowed}."
            )
        _move(imp, old_status, new_status, now)
        changes["status"] = [old_status.value, new_status.value]
    for name in ("title", "description", "hypothesis", "due_on"):
        if name in sent and sent[name] != getattr(imp, name):
            changes[name] = sent[name]
            setattr(imp, name, sent[name])
    if "owner_id" in sent and data.owner_id != imp.owner_id:
        _check_owner(session, data.owner_id)
        changes["owner_id"] = data.owner_id
        imp.owner_id = data.owner_id
    before = {n: getattr(imp, n) for n in TIMESTAMPS}
    _apply_timestamps(imp, {n: sent[n] for n in TIMESTAMPS if n in sent}, now)
    for name in TIMESTAMPS:
        if name in sent and before[name] != getattr(imp, name):
            changes[name] = getattr(imp, name)
    if data.pain_point_ids is not None:
        links = _resolve_links(session, data.pain_point_ids)
        current = link_map(session, [imp.id]).get(imp.id, [])
        if set(links) != set(current):
            session.execute(
                delete(ImprovementPainPoint).where(
                    col(ImprovementPainPoint.improvement_id) == imp.id
                )
            )
            session.execute(
                insert(ImprovementPainPoint),
                [{"improvement_id": imp.id, "pain_point_id": p} for p in links],
            )
            changes["pain_point_ids"] = links
    if changes:
        imp.updated_at = now
        session.add(imp)
        session.flush()
        record(session, user, "improvement.update", "improvement", imp.id, **changes)
    return imp


def _move(imp: Improvement, old: ImprovementStatus, new: ImprovementStatus, now: datetime) -> None:
    imp.status = new
    if new == S.in_progress:
        if imp.started_at is None:
            imp.started_at = now
        imp.done_at = imp.verified_at = None  # a reopen: the completion no longer stands
    elif new == S.done:
        imp.done_at = now
    elif new == S.verified:
        imp.verified_at = now


# ---------------------------------------------------------------- effect


def binomial_two_sided_p(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n trials with p = 1/2: the probability of an
    outcome at least as unlikely, i.e. 2 × P(X ≤ min(k, n − k)) capped at 1 (the distribution is
    symmetric). Integers throughout, so it is exact for any n."""
    if n == 0:
        return 1.0
    m = min(k, n - k)
    term, tail = 1, 0
    for i in range(m + 1):
        tail += term
        term = term * (n - i) // (i + 1)
    return min(1.0, 2 * tail / (1 << n))


def effect(
    session: Session, imp: Improvement, *, window_days: int, now: datetime
) -> ImprovementEffect:
    if imp.done_at is None:
        raise Conflict(
            f"The improvement is {imp.status}; its effect is measured from done_at, which is "
            "set when it becomes done."
        )
    span = timedelta(days=window_days)
    done = imp.done_at
    survivors = link_map(session, [imp.id]).get(imp.id, [])
    counts = queries.effect_counts(
        session, survivors, start=done - span, split=done, end=done + span
    )
    before_week = counts.before * 7 / window_days
    after_week = counts.after * 7 / window_days
    change = (after_week - before_week) / before_week if counts.before else None
    total = counts.before + counts.after
    p = binomial_two_sided_p(counts.after, total)
    ended = now >= done + span
    return ImprovementEffect(
        improvement_id=imp.id,
        window_days=window_days,
        before=EffectWindow(
            from_=done - span, to=done, frequency=counts.before, per_week=before_week
        ),
        after=EffectWindow(from_=done, to=done + span, frequency=counts.after, per_week=after_week),
        change=change,
        p_value=p,
        enough_data=ended and total >= MIN_OBSERVATIONS and p < ALPHA,
    )


# ---------------------------------------------------------------- for the backlog


def for_backlog(
    session: Session, pain_point_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ImprovementRef]]:
    """Each given (surviving) pain point id → the improvements linked to it, dropped ones
    left out, in creation order. One query; pain points without improvements are absent."""
    return backlog_improvements(session, pain_point_ids, None)[0]


def backlog_improvements(
    session: Session,
    pain_point_ids: Sequence[uuid.UUID] | None,
    now: datetime | None,
    *,
    most: int | None = None,
) -> tuple[dict[uuid.UUID, list[ImprovementRef]], set[uuid.UUID] | None]:
    """What the backlog shows of improvements: `for_backlog`, and the pain points that came
    back (`regressions` at `now`; none when `now` is None), from one query of the links.
    `pain_point_ids` None: every pain point with a linked improvement. `most`: past that many
    verified links the flags are not computed (None instead of the set)."""
    out: dict[uuid.UUID, list[ImprovementRef]] = {}
    if pain_point_ids is not None and not pain_point_ids:
        return out, set()
    seen: set[tuple[uuid.UUID, uuid.UUID]] = set()
    verified: list[tuple[uuid.UUID, datetime, datetime]] = []
    wanted = None if pain_point_ids is None else set(pain_point_ids)
    for pp_id, imp_id, title, status, done_at, verified_at in session.execute(
        queries.backlog_links(wanted)
    ):
        if (pp_id, imp_id) in seen:  # a link on a merged id and one on its survivor
            continue
        seen.add((pp_id, imp_id))
        out.setdefault(pp_id, []).append(
            ImprovementRef(id=imp_id, title=title, status=ImprovementStatus(status))
        )
        if (
            now is not None
            and status == ImprovementStatus.verified
            and done_at is not None
            and verified_at is not None
            and verified_at <= now - REGRESSION_MIN_ELAPSED
        ):
            verified.append((pp_id, done_at, verified_at))
    if now is None:
        return out, set()
    if most is not None and len(verified) > most:
        return out, None
    return out, _regressed(session, verified, now)


def _hour(value: datetime) -> datetime:
    """The start of the UTC hour `value` falls in."""
    return value.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def regressions(
    session: Session, pain_point_ids: Sequence[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    """The given pain points that came back: a linked improvement is verified, at least
    REGRESSION_MIN_ELAPSED has passed since its verified_at, and the pain point's own per-week
    rate since then is above its per-week rate in that improvement's before window, the 28
    days before done_at. Both windows are counted in whole UTC hours, each end moved to the
    start of the hour it falls in (before: the 28 days up to done_at's hour; since: from
    verified_at's hour to the current hour, which is left out), so the rollups answer them
    without reading raw rows but hours marked for refresh; an hour at either end moves a rate
    over weeks by a fraction of a percent. At most four queries (links, marks, rollup counts
    and, for hours marked since the last refresh, one raw scan per hour: see
    app.backlog.service.window_counts), never one per pain point."""
    came_back = backlog_improvements(session, pain_point_ids, now)[1]
    assert came_back is not None  # no `most`: always computed
    return came_back


def _regressed(
    session: Session, links: Sequence[tuple[uuid.UUID, datetime, datetime]], now: datetime
) -> set[uuid.UUID]:
    """`regressions` of these (pain point, done_at, verified_at) links."""
    span = timedelta(days=DEFAULT_WINDOW_DAYS)
    until = _hour(now)
    windows: list[tuple[int, uuid.UUID, datetime, datetime]] = []
    pairs: list[tuple[uuid.UUID, float, float]] = []  # pain point, before days, since days
    for pp_id, done_at, verified_at in links:
        since = _hour(verified_at)
        if since >= until:  # only with REGRESSION_MIN_ELAPSED under an hour
            continue
        key = len(pairs)
        done = _hour(done_at)
        windows.append((2 * key, pp_id, done - span, done))
        windows.append((2 * key + 1, pp_id, since, until))
        pairs.append((pp_id, span / timedelta(days=1), (until - since) / timedelta(days=1)))
    if not windows:
        return set()
    from app.backlog.service import window_counts  # the backlog imports this module

    counts = window_counts(session, windows)
    out: set[uuid.UUID] = set()
    for key, (pp_id, before_days, since_days) in enumerate(pairs):
        before_rate = counts.get(2 * key, 0) * 7 / before_days
        since_rate = counts.get(2 * key + 1, 0) * 7 / since_days
        if since_rate > before_rate:
            out.add(pp_id)
    return out
