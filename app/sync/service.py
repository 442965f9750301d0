"""POST /sync: the outbox's batch. Pain points, then visits, then observations, each item on its
own: a bad item is reported and never blocks the others. Observations take a bulk path (one
round of look-ups and one multi-row insert per batch) and fall back to item-by-item savepoints
only when the bulk insert meets a conflict (a concurrent replay)."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from typing import Any, Literal, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.core.errors import AppError, ProblemDetails, problem_body, validation_errors
from app.models import User, new_id, utcnow
from app.observations import service as observations
from app.observations.schemas import ObservationCreate
from app.pain_points import service as pain_points
from app.pain_points.schemas import PainPointCreate
from app.sync.schemas import SyncRequest, SyncResponse, SyncResult
from app.visits import service as visits
from app.visits.schemas import VisitCreate

M = TypeVar("M", bound=BaseModel)

_adapters: dict[type[BaseModel], TypeAdapter[Any]] = {
    m: TypeAdapter(m) for m in (PainPointCreate, VisitCreate, ObservationCreate)
}


def _raw_id(raw: Any) -> uuid.UUID | None:
    if isinstance(raw, dict):
        try:
            return uuid.UUID(str(raw.get("id")))
        except ValueError:
            return None
    return None


def _error(kind: str, item_id: uuid.UUID | None, problem: dict[str, Any]) -> SyncResult:
    return SyncResult(kind=kind, id=item_id, status="error", error=ProblemDetails(**problem))


def _parse(kind: str, model: type[M], raw: Any) -> M | SyncResult:
    try:
        parsed: M = _adapters[model].validate_python(raw)
        return parsed
    except ValidationError as exc:
        errors = validation_errors(exc.errors())
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
        return _error(kind, _raw_id(raw), problem_body(422, detail, errors=errors))


def _one(
    session: Session,
    kind: Literal["pain_point", "visit"],
    model: type[M],
    raw: Any,
    create: Callable[[M], tuple[Any, bool]],
) -> Result:
    data = _parse(kind, model, raw)
    if isinstance(data, SyncResult):
        return data
    try:
        with session.begin_nested():
            obj, created = create(data)
    except AppError as exc:
        return _error(kind, getattr(data, "id", None), exc.to_problem())
    return Done(kind, obj.id, "created" if created else "exists")


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for one batch. A batch's parse allocates some 30
    objects per observation, all alive until its response: the collections their allocation
    triggers walk them again and again while none is garbage (~8 % of the sync's CPU per
    observation, nearly all of it in the parse). Reference counting still frees everything else;
    the collector runs again from the next allocation after the batch. A request that finds
    it off (another batch in progress, on PostgreSQL's concurrent writers) leaves it alone,
    so it is never off for longer than one request."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _NotASync(AppError):
    status = 422


class _AllValid(BaseModel):
    """The common case: the whole batch valid, checked in one pass over the raw JSON."""

    model_config = ConfigDict(extra="forbid")

    pain_points: list[Any] = []
    visits: list[Any] = []
    observations: list[ObservationCreate] = []


_ALL_VALID = TypeAdapter(_AllValid)
_REQUEST = TypeAdapter(SyncRequest)


def parse(raw_body: bytes) -> tuple[SyncRequest, list[ObservationCreate] | None]:
    """The request, and its observations validated when every one of them is valid (else None:
    each is then validated on its own, so one bad item fails only itself). Pydantic's JSON mode
    reads the bytes several times faster than json.loads plus validating the decoded objects."""
    try:
        fast = _ALL_VALID.validate_json(raw_body)
    except ValidationError:
        pass
    else:
        body = SyncRequest.model_construct(
            pain_points=fast.pain_points, visits=fast.visits, observations=fast.observations
        )
        return body, fast.observations
    try:
        return _REQUEST.validate_json(raw_body), None
    except ValidationError as exc:
        errors = validation_errors(exc.errors())
        detail = "; ".join(f"{e['field'] or 'body'}: {e['message']}" for e in errors[:5])
        raise _NotASync(detail, errors=errors) from None


def run(
    session: Session,
    *,
    body: SyncRequest,
    user: User,
    observations_valid: list[ObservationCreate] | None = None,
) -> list[Result]:
    results = [
        _one(
            session,
            "pain_point",
            PainPointCreate,
            raw,
            lambda d: pain_points.create(session, data=d, user=user),
        )
        for raw in body.pain_points
    ]
    results += [
        _one(
            session, "visit", VisitCreate, raw, lambda d: visits.create(session, data=d, user=user)
        )
        for raw in body.visits
    ]
    results += _observations(session, user, observations_valid or body.observations)
    return results


def _single(session: Session, data: ObservationCreate, user: User) -> Result:
    try:
        with session.begin_nested():
            result = observations.create(session, data=data, user=user)
    except AppError as exc:
        return _error("observation", data.id, exc.to_problem())
    return _ok(result.observation.id, "created" if result.created else "exists")


class Done(NamedTuple):
    """A result without an error: what nearly every item gets, so a plain tuple rather than a
    SyncResult (whose validating constructor cost more than the item's insert); read the same
    way (kind, id, status, error) and rendered by `encode`."""

    kind: Literal["pain_point", "visit", "observation"]
    id: uuid.UUID
    status: Literal["created", "exists"]
    error: None = None


Result = SyncResult | Done
_new = tuple.__new__  # Done(…) without NamedTuple's Python-level __new__


def _ok(oid: uuid.UUID, status: Literal["created", "exists"]) -> Done:
    return Done("observation", oid, status)


_CONFLICT = "An observation with this id already exists with other content."


def _observations(session: Session, user: User, raws: Sequence[Any]) -> list[Result]:
    """Validated one by one, checked and inserted in bulk: one round of catalogue look-ups,
    one multi-row insert for the observations (skipping ids that exist) and one for their tags.

    What is already stored is learnt from the insert itself: an id it skipped exists. Only the
    items whose fate depends on a stored row — skipped by the insert, failing the checks (a
    replay is judged on what is stored, not on today's catalogue), sent twice in the batch, or
    with photos — are then looked up, in one query; a fresh batch needs none. Items with
    photos (row locks on attachments) and items a bulk insert could not settle go one by one,
    each on its own savepoint."""
    results: list[Result | None] = [None] * len(raws)
    digest_of = observations.payload_digest
    # Keyed by the ids' .int: uuid.UUID hashes in Python code, an int in C.
    first_in_batch: dict[int, str] = {}
    fresh: list[tuple[int, ObservationCreate, str]] = []
    again: list[tuple[int, ObservationCreate, str]] = []  # an id already seen in this batch
    for i, raw in enumerate(raws):
        data = (
            raw
            if isinstance(raw, ObservationCreate)
            else _parse("observation", ObservationCreate, raw)
        )
        if isinstance(data, SyncResult):
            results[i] = data
            continue
        if data.id is None:
            data.id = new_id()
        digest = digest_of(data)
        key = data.id.int
        if key in first_in_batch:
            again.append((i, data, digest))
        else:
            first_in_batch[key] = digest
            fresh.append((i, data, digest))

    ctx = observations.load_context(session, user, [d for _, d, _ in fresh]) if fresh else None
    now = utcnow()
    rows: list[observations.ObservationRow] = []
    tag_rows: list[list[observations.TagRow]] = []
    bulk: list[tuple[int, ObservationCreate, str]] = []
    # Judged after the insert, against the stored row if there is one; else the error, or
    # (None) the one-by-one path.
    pending: list[tuple[int, ObservationCreate, str, AppError | None]] = []
    prepare = observations.prepare
    for item in fresh:
        i, data, digest = item
        if data.attachment_ids:  # linking photos takes row locks: the one-by-one path
            pending.append((i, data, digest, None))
            continue
        assert ctx is not None
        try:
            row, tags = prepare(data, ctx, digest, now)
        except AppError as exc:
            pending.append((i, data, digest, exc))
            continue
        rows.append(row)
        tag_rows.append(tags)
        bulk.append(item)

    if rows:
        try:
            with session.begin_nested():
                inserted = observations.insert_rows(session, rows)
                observations.insert_tags(
                    session,
                    list(chain.from_iterable(tag_rows))
                    if inserted is None
                    else [
                        t
                        for row, tags in zip(rows, tag_rows, strict=True)
                        if row.id in inserted
                        for t in tags
                    ],
                    premarked=True,  # their observations were just inserted, and marked
                )
        except IntegrityError:  # e.g. a pain point removed under us: settle one by one
            pending += [(i, data, digest, None) for i, data, digest in bulk]
        else:
            for i, data, digest in bulk:
                oid = data.id
                assert oid is not None
                if inserted is None or oid in inserted:
                    results[i] = _new(Done, ("observation", oid, "created", None))
                else:  # skipped: the id exists (stored before, or by a concurrent replay)
                    pending.append((i, data, digest, None))

    if pending or again:
        stored = observations.stored(
            session, [d.id for _, d, _, _ in pending if d.id] + [d.id for _, d, _ in again if d.id]
        )
        known = {k.int: row for k, row in stored.items()}
        for i, data, digest, failed in pending:
            assert data.id is not None
            hit = known.get(data.id.int)
            if hit is not None:
                results[i] = _replay(
                    data.id, hit.observer_id, hit.payload_hash, hit.deleted_at, user, digest
                )
            elif failed is not None:
                results[i] = _error("observation", data.id, failed.to_problem())
            else:
                results[i] = _single(session, data, user)
        for i, data, digest in again:
            oid = data.id
            assert oid is not None
            hit = known.get(oid.int)
            if hit is not None:  # stored before, or by its first occurrence just now
                results[i] = _replay(
                    oid, hit.observer_id, hit.payload_hash, hit.deleted_at, user, digest
                )
            else:
                results[i] = (
                    _ok(oid, "exists")
                    if first_in_batch[oid.int] == digest
                    else _error("observation", oid, problem_body(409, _CONFLICT))
                )
    return [r for r in results if r is not None]


def _replay(
    oid: uuid.UUID,
    observer_id: uuid.UUID,
    stored_hash: str,
    deleted_at: object,
    user: User,
    digest: str,
) -> Result:
    if observer_id != user.id or stored_hash != digest:
        return _error("observation", oid, problem_body(409, _CONFLICT))
    if deleted_at is not None:
        return _error(
            "observation",
            oid,
            problem_body(410, "This observation was deleted; it will not be created again."),
        )
    return _ok(oid, "exists")


RESPONSE = TypeAdapter(SyncResponse)
_RESULT = TypeAdapter(SyncResult)


def encode(results: Sequence[Result]) -> bytes:
    """The SyncResponse as JSON, byte for byte what RESPONSE.dump_json renders: results
    without an error are written out directly (500 of them through pydantic cost ~3 µs each),
    the others through the model."""
    parts = [
        f'{{"kind":"{r.kind}","id":"{r.id}","status":"{r.status}","error":null}}'.encode()
        if isinstance(r, Done)
        else _RESULT.dump_json(r)
        for r in results
    ]
    return b'{"results":[' + b",".join(parts) + b"]}"
