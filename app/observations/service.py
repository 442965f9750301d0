"""Observations: idempotent creates, validation of tags against the journey, the 24-hour edit
window, soft deletes, and the filtered list shared by JSON pages and CSV export."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    CursorResult,
    Select,
    Uuid,
    bindparam,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy import types as sa_types
from sqlmodel import Session, col

from app.attachments import service as attachments
from app.audit.service import record
from app.core.errors import AppError, Conflict, Forbidden, Invalid, NotFound, validation_errors
from app.models import (
    Channel,
    Journey,
    Observation,
    ObservationTag,
    PainPoint,
    PainPointStatus,
    Site,
    User,
    Visit,
    new_id,
    utcnow,
)
from app.models.base import UTCDateTime
from app.observations.schemas import (
    Location,
    ObservationCreate,
    ObservationPublic,
    ObservationUpdate,
    TagIn,
    TagPublic,
)
from app.pain_points.service import resolve

FUTURE_TOLERANCE = timedelta(minutes=10)
EDIT_WINDOW = timedelta(hours=24)


class Gone(AppError):
    status = 410


@dataclass
class Filters:
    journey_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    pain_point_id: uuid.UUID | None = None
    site_id: uuid.UUID | None = None
    channel: str | None = None
    observer_id: uuid.UUID | None = None
    visit_id: uuid.UUID | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None
    untriaged: bool | None = None


class Resolved(NamedTuple):
    """A tag's pain point after aliases and merges: all a create needs of it."""

    id: uuid.UUID
    journey_id: uuid.UUID


# ObservationRow(…) and TagRow(…) without NamedTuple's Python-level __new__ (the write path
# makes a few thousand per batch).
_new_row = tuple.__new__


def _check_tags(
    found: dict[int, tuple[uuid.UUID, int, int]],
    journey_id: uuid.UUID,
    tags: Sequence[TagIn],
    observation_id: uuid.UUID,
) -> list[TagRow]:
    """The tags' rows; `found` is Context.tag_targets."""
    out: list[TagRow] = []
    seen: set[int] = set()
    journey = journey_id.int
    for i, tag in enumerate(tags):
        hit = found.get(tag.pain_point_id.int)
        if hit is None:
            raise Invalid(f"pain_points.{i}.pain_point_id", "no such pain point")
        pid, pp_journey, key = hit
        if pp_journey != journey:
            raise Invalid(f"pain_points.{i}.pain_point_id", "belongs to another journey")
        if key in seen:
            raise Invalid(f"pain_points.{i}.pain_point_id", "the same pain point is tagged twice")
        seen.add(key)
        out.append(_new_row(TagRow, (observation_id, pid, tag.severity)))
    return out


def _check_content(note: str, tags: Sequence[object]) -> None:
    if not note.strip() and not tags:
        raise Invalid("note", "write a note or tag at least one pain point")


class VisitRef(NamedTuple):
    """What a create takes from its visit: the defaults for site and channel."""

    site_id: uuid.UUID | None
    channel: str | None


@dataclass
class Context:
    """Everything creates need to check, loaded for a whole batch in a handful of queries."""

    journeys: set[uuid.UUID]
    visits: dict[uuid.UUID, VisitRef]
    sites: set[uuid.UUID]
    pain_points: dict[uuid.UUID, Resolved]
    observer_id: uuid.UUID  # the user writing
    # The same keyed by the ids' .int: uuid.UUID hashes and compares in Python code, an int
    # in C — the checks of a 500-item batch look ids up a few thousand times.
    journey_ints: set[int] = field(init=False)
    # A tag's pain point id (as sent, an alias or merged id too) → (canonical id, its
    # journey's .int, its own .int).
    tag_targets: dict[int, tuple[uuid.UUID, int, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.journey_ints = {j.int for j in self.journeys}
        self.tag_targets = {
            k.int: (v.id, v.journey_id.int, v.id.int) for k, v in self.pain_points.items()
        }


# Built once: the write path runs these on every request.
_JOURNEYS = select(col(Journey.id)).where(col(Journey.id).in_(bindparam("ids", expanding=True)))
_SITES = select(col(Site.id)).where(col(Site.id).in_(bindparam("ids", expanding=True)))
_VISITS = select(
    col(Visit.id), col(Visit.observer_id), col(Visit.site_id), col(Visit.channel)
).where(col(Visit.id).in_(bindparam("ids", expanding=True)))
_STORED = select(
    col(Observation.id),
    col(Observation.observer_id),
    col(Observation.payload_hash),
    col(Observation.deleted_at),
).where(col(Observation.id).in_(bindparam("ids", expanding=True)))


_PAIN_POINTS = select(col(PainPoint.id), col(PainPoint.journey_id), col(PainPoint.status)).where(
    col(PainPoint.id).in_(bindparam("ids", expanding=True))
)


def _core(session: Session) -> Connection:
    """The session's connection, for the write path's column look-ups: going through the
    ORM's execute cost about 100 µs more per query than the query itself. Pending ORM
    changes are flushed first, as the ORM's autoflush would."""
    session.flush()
    return session.connection()


def resolve_tags(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, Resolved]:
    """Like pain_points.service.resolve, but light: canonical ids (the common case) in one
    column query; only aliases and merged ids take the full resolution."""
    if not ids:
        return {}
    out = {
        pid: Resolved(pid, jid)
        for pid, jid, status in _core(session).execute(_PAIN_POINTS, {"ids": list(ids)})
        if status != PainPointStatus.merged
    }
    rest = ids - out.keys()
    if rest:
        out.update({k: Resolved(pp.id, pp.journey_id) for k, pp in resolve(session, rest).items()})
    return out


def load_context(session: Session, user: User, items: Sequence[ObservationCreate]) -> Context:
    conn = _core(session)
    # Distinct ids gathered by their .int (hashed in C; a batch repeats the same few ids).
    tag_ids = set(
        {t.pain_point_id.int: t.pain_point_id for d in items for t in d.pain_points}.values()
    )
    pain_points = resolve_tags(session, tag_ids)
    # A tag's pain point proves its journey exists (foreign key): look up only the others.
    known = {pp.journey_id for pp in pain_points.values()}
    journey_ids = set({d.journey_id.int: d.journey_id for d in items}.values()) - known
    journeys = known | (
        set(conn.scalars(_JOURNEYS, {"ids": list(journey_ids)})) if journey_ids else set()
    )
    visit_ids = {d.visit_id for d in items if d.visit_id is not None}
    visits: dict[uuid.UUID, VisitRef] = {}
    if visit_ids:
        visits = {
            v.id: VisitRef(v.site_id, v.channel)
            for v in conn.execute(_VISITS, {"ids": list(visit_ids)})
            if user.is_manager or v.observer_id == user.id
        }
    site_ids = {d.site_id for d in items if d.site_id is not None}
    sites = set(conn.scalars(_SITES, {"ids": list(site_ids)})) if site_ids else set()
    return Context(journeys, visits, sites, pain_points, user.id)


def stored(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """(id, observer_id, payload_hash, deleted_at) of those ids that exist, in one query."""
    if not ids:
        return {}
    return {row.id: row for row in _core(session).execute(_STORED, {"ids": list(ids)})}


_SERIALIZER = ObservationCreate.__pydantic_serializer__
_WITHOUT_ID = {"id"}


def payload_digest(data: ObservationCreate) -> str:
    """SHA-256 of the canonical create payload: the validated model as JSON without its id
    (exactly `data.model_dump_json(exclude={"id"})`, without that method's per-call wrapper).
    Field order, defaulted fields and time zone offsets therefore do not make two payloads
    differ (the model's field order is fixed and times are normalised to UTC)."""
    return hashlib.sha256(_SERIALIZER.to_json(data, exclude=_WITHOUT_ID)).hexdigest()


def _utc_text_memo() -> Callable[[datetime], str]:
    """A UTC datetime as "YYYY-MM-DD HH:MM:SS.ffffff" (what the column type writes; isoformat
    in C, which always writes the microseconds when asked to; years 1000-9999, and the API
    takes 1970-2199), remembering its last answer: a batch's rows share one `now` object for
    created_at and updated_at. The (object, text) pair is swapped as one tuple, so concurrent
    callers never mix pairs."""
    box: list[tuple[datetime | None, str]] = [(None, "")]

    def text(v: datetime) -> str:
        last = box[0]
        if last[0] is v:
            return last[1]
        out = v.isoformat(" ", "microseconds")[:26]
        box[0] = (v, out)
        return out

    return text


class ObservationRow(NamedTuple):
    """An observation's row as the bulk insert takes it: a tuple in the table's column order
    (checked where the insert is built), far cheaper to make and to encode than a dict."""

    id: uuid.UUID
    journey_id: uuid.UUID
    visit_id: uuid.UUID | None
    site_id: uuid.UUID | None
    observer_id: uuid.UUID
    channel: str | None
    observed_at: datetime
    note: str
    customer_goal: str
    customer_quote: str
    customer_minutes_lost: int | None
    lat: float | None
    lon: float | None
    accuracy_m: float | None
    payload_hash: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    deleted_by: uuid.UUID | None


class TagRow(NamedTuple):
    """A tag's row, in observation_tags' column order."""

    observation_id: uuid.UUID
    pain_point_id: uuid.UUID
    severity: int


_ROW_TYPES: dict[str, type[tuple[Any, ...]]] = {
    "observations": ObservationRow,
    "observation_tags": TagRow,
}


def _columns_of(table: Any) -> list[Any]:
    """The table's columns, which must be those of its row tuple in the same order."""
    columns = list(table.columns)
    fields: tuple[str, ...] = getattr(_ROW_TYPES[table.name], "_fields", ())
    if tuple(c.name for c in columns) != fields:
        raise RuntimeError(f"the row tuple of {table.name} does not match its columns")
    return columns


class _SqliteInsert(NamedTuple):
    head: str  # INSERT INTO table (columns) VALUES
    group: str  # (?, ?, …) for one row
    conflict: str
    encode: Callable[[tuple[Any, ...]], tuple[Any, ...]]


_SQLITE_INSERTS: dict[tuple[str, str], _SqliteInsert] = {}


def _sqlite_insert(session: Session, table: Any, conflict: str) -> _SqliteInsert:
    """The INSERT's parts and a function turning a row tuple (ObservationRow, TagRow) into its
    parameters, built once per table. The function is generated so that each column costs one
    inline expression: the common values' encodings are written out (identical to what the
    column types produce: UUIDs as 32 hex digits, UTC times as "YYYY-MM-DD HH:MM:SS.ffffff"),
    anything else goes through the type's own bind processor. SQLAlchemy's per-row parameter
    machinery, and then a generic per-column loop, each cost more than SQLite's insert."""
    key = (table.name, conflict)
    cached = _SQLITE_INSERTS.get(key)
    if cached is not None:
        return cached
    dialect = session.get_bind().dialect
    env: dict[str, Any] = {"_UUID": uuid.UUID, "_UTC": UTC}
    exprs: list[str] = []
    columns = _columns_of(table)
    for n, column in enumerate(columns):
        proc = column.type.dialect_impl(dialect).bind_processor(dialect)
        full = f"_p{n}"
        env[full] = proc
        get = f"r[{n}]"
        if proc is None:
            exprs.append(get)
        elif isinstance(column.type, Uuid):
            # What UUID.hex returns, without the property's Python call.
            exprs.append(
                f"('%032x' % v.int if type(v := {get}) is _UUID "
                f"else None if v is None else {full}(v))"
            )
        elif isinstance(column.type, UTCDateTime):
            # Each column its own memo: created_at and updated_at repeat the batch's `now`,
            # observed_at differs on every row and would evict it from a shared one.
            env[f"_text{n}"] = _utc_text_memo()
            exprs.append(
                f"(None if (v := {get}) is None else _text{n}(v) if v.tzinfo is _UTC "
                f"else {full}(v))"
            )
        else:
            exprs.append(f"(None if (v := {get}) is None else {full}(v))")
    source = f"lambda r: ({', '.join(exprs)},)"
    encode = eval(source, env)  # generated from our own table's column names, built once
    names = ", ".join(c.name for c in columns)
    group = "(" + ", ".join("?" for _ in columns) + ")"
    cached = _SQLITE_INSERTS[key] = _SqliteInsert(
        f"INSERT INTO {table.name} ({names}) VALUES ", group, conflict, encode
    )
    return cached


_SQLITE_STATEMENTS: dict[tuple[str, str, int], str] = {}
# Parameters per statement: enough rows to amortise each statement's fixed costs (500
# observations, all of a batch's tags), within SQLite's limit on bound parameters (32,766
# since 3.32; checked at run time too).
_SQLITE_PARAMS_PER_STATEMENT = 9_500


def _sqlite_insert_rows(
    session: Session, table: Any, rows: Sequence[tuple[Any, ...]], conflict: str = ""
) -> int:
    """Multi-row INSERT … VALUES (…), (…) statements; returns the number of rows inserted.

    Not executemany: SQLite runs every execution of a statement that may fire triggers (the
    backlog's rollups mark dirty days from triggers on observations and their tags) inside
    its own statement journal, which copies each page the row touches — with this table's
    indexes that made each row cost ~2.5× its insert. One statement per few hundred rows
    pays that once per page per statement."""
    insert_ = _sqlite_insert(session, table, conflict)
    conn = session.connection()
    width = len(table.columns)
    limit = conn.connection.dbapi_connection.getlimit(  # type: ignore[union-attr]
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER
    )
    per = max(1, min(_SQLITE_PARAMS_PER_STATEMENT, limit) // width)
    done = 0
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        key = (table.name, conflict, len(chunk))
        sql = _SQLITE_STATEMENTS.get(key)
        if sql is None:
            values = ", ".join([insert_.group] * len(chunk))
            sql = _SQLITE_STATEMENTS[key] = f"{insert_.head}{values} {conflict}".rstrip()
        encode = insert_.encode
        params = tuple(chain.from_iterable(map(encode, chunk)))  # flattened in C
        done += conn.exec_driver_sql(sql, params).rowcount
    return done


def _pg_uuid(v: Any) -> str:
    if v is None:
        return "NULL"
    return f"{(v if type(v) is uuid.UUID else uuid.UUID(str(v))).int:032x}"


def _pg_time(v: datetime | None) -> str:
    if v is None:
        return "NULL"
    if v.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return v.isoformat()  # "T", digits, "+00:00": nothing an array literal must quote


def _pg_number(v: float | None) -> str:
    return "NULL" if v is None else repr(v)


def _pg_text(v: str | None) -> str:
    if v is None:
        return "NULL"
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_array(element: Callable[[Any], str]) -> Callable[[Sequence[Any]], str]:
    def literal(values: Sequence[Any]) -> str:
        return "{" + ",".join(map(element, values)) + "}"

    return literal


def _pg_literal(column: Any) -> Callable[[Sequence[Any]], str] | None:
    """A column's values as one PostgreSQL array literal ('{…,…}'), for the types the write
    path inserts; None for any other (psycopg then adapts the list itself). psycopg adapts a
    list element by element in Python, with a regular expression per element to decide its
    quoting: ~100 µs of CPU per synced observation, more than all the rest of the sync."""
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return _pg_array(_pg_time)
    if isinstance(kind, sa_types.TypeDecorator):
        # Those that only choose their type (sqlmodel's AutoString: str fields) as that type.
        if type(kind).process_bind_param is not sa_types.TypeDecorator.process_bind_param:
            return None
        kind = kind.impl_instance
    if isinstance(kind, Uuid):
        return _pg_array(_pg_uuid)
    if isinstance(kind, (sa_types.Integer, sa_types.Float)):
        return _pg_array(_pg_number)
    if isinstance(kind, sa_types.String) and not isinstance(kind, sa_types.Enum):
        return _pg_array(_pg_text)
    return None


_PG_INSERTS: dict[tuple[str, str], tuple[str, list[Any]]] = {}


def _pg_insert_rows(
    session: Session, table: Any, rows: Sequence[tuple[Any, ...]], suffix: str = ""
) -> CursorResult[Any]:
    """One INSERT … SELECT * FROM unnest(%s::type[], …): one array per column, so the
    statement's text is the same whatever the number of rows. SQLAlchemy's multi-row VALUES
    rendering made psycopg re-parse a statement with thousands of named placeholders on every
    batch (a quarter of the sync's CPU on PostgreSQL). Each array is sent as the text of an
    array literal (see _pg_literal), which the cast parses."""
    key = (table.name, suffix)
    cached = _PG_INSERTS.get(key)
    if cached is None:
        dialect = session.get_bind().dialect
        encoders: list[Any] = []
        arrays: list[str] = []
        columns = _columns_of(table)
        for column in columns:
            literal: Callable[[Sequence[Any]], Any] | None = _pg_literal(column)
            if literal is None:
                proc = column.type.dialect_impl(dialect).bind_processor(dialect)
                if proc is None:
                    literal = list
                else:
                    literal = (lambda p: lambda vs: [None if v is None else p(v) for v in vs])(proc)
            encoders.append(literal)
            arrays.append(f"%s::{column.type.compile(dialect=dialect)}[]")
        names = ", ".join(c.name for c in columns)
        sql = f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({', '.join(arrays)})"
        cached = _PG_INSERTS[key] = (f"{sql} {suffix}".rstrip(), encoders)
    sql, encoders = cached
    # zip(*rows): the columns, transposed in C.
    params = tuple(
        encode(values) for values, encode in zip(zip(*rows, strict=True), encoders, strict=True)
    )
    return session.connection().exec_driver_sql(sql, params)


def insert_rows(session: Session, rows: Sequence[ObservationRow]) -> set[uuid.UUID] | None:
    """Inserts observations, skipping ids that already exist (a replay or a concurrent twin).
    Returns None when every row was inserted (the common case, checked without building a set
    of ids), else the ids inserted. No savepoint is needed: a conflict is not an error."""
    if not rows:
        return None
    table = Observation.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        done = _sqlite_insert_rows(session, table, rows, "ON CONFLICT (id) DO NOTHING")
        if done == len(rows):
            return None
        # Some ids were taken (on SQLite only a replay inside this transaction can do that:
        # writers hold the lock from BEGIN IMMEDIATE). Ours are those stamped with our time.
        mine = {r.id: r.created_at for r in rows}
        taken = select(col(Observation.id), col(Observation.created_at)).where(
            col(Observation.id).in_(mine)
        )
        return {oid for oid, at in session.execute(taken) if mine.get(oid) == at}
    result = _pg_insert_rows(session, table, rows, "ON CONFLICT (id) DO NOTHING RETURNING id")
    inserted = set(result.scalars())
    return None if len(inserted) == len(rows) else inserted


_PREMARK = "INSERT INTO tags_premarked (id, guard) VALUES (1, 0)"
_UNMARK = "DELETE FROM tags_premarked"


def insert_tags(session: Session, tag_rows: Sequence[TagRow], *, premarked: bool = False) -> None:
    """`premarked`: every tag's observation was inserted earlier in this transaction, so its
    (day, hour) is marked stale already; on SQLite the per-tag trigger then skips its
    look-up (app.models.field.TagsPremarked, migration b1a0c0de0014)."""
    if not tag_rows:
        return
    table = ObservationTag.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "sqlite":
        if not premarked:
            _sqlite_insert_rows(session, table, tag_rows)
            return
        # No try/finally: an error here ends in the caller's savepoint rollback, and a row
        # left behind fails the commit (its deferred guard) rather than skip later marks.
        conn = session.connection()
        conn.exec_driver_sql(_PREMARK)
        _sqlite_insert_rows(session, table, tag_rows)
        conn.exec_driver_sql(_UNMARK)
    else:
        _pg_insert_rows(session, table, tag_rows)


def prepare(
    data: ObservationCreate, ctx: Context, digest: str, now: datetime | None = None
) -> tuple[ObservationRow, list[TagRow]]:
    """Checks one observation against the loaded context; returns its row and tag rows.
    `now` (the row's created_at) may be given once for a whole batch."""
    now = now or utcnow()
    if data.observed_at > now + FUTURE_TOLERANCE:
        raise Invalid("observed_at", "may not be more than 10 minutes in the future")
    tags_in = data.pain_points
    if not tags_in:
        _check_content(data.note, tags_in)
    if data.journey_id.int not in ctx.journey_ints:
        raise Invalid("journey_id", "no such journey")
    visit = None
    if data.visit_id is not None:
        visit = ctx.visits.get(data.visit_id)
        if visit is None:
            raise Invalid("visit_id", "no such visit of yours")
    if data.site_id is not None and data.site_id not in ctx.sites:
        raise Invalid("site_id", "no such site")
    oid = data.id or new_id()
    tags = _check_tags(ctx.tag_targets, data.journey_id, tags_in, oid)
    loc = data.location
    row: ObservationRow = _new_row(
        ObservationRow,
        (
            oid,
            data.journey_id,
            data.visit_id,
            data.site_id or (visit.site_id if visit else None),
            ctx.observer_id,
            data.channel or (visit.channel if visit else None),
            data.observed_at,
            data.note,
            data.customer_goal,
            data.customer_quote,
            data.customer_minutes_lost,
            loc.lat if loc else None,
            loc.lon if loc else None,
            loc.accuracy_m if loc else None,
            digest,
            now,
            now,
            None,
            None,
        ),
    )
    return row, tags


# A row just inserted, as `create` hands it back: building a SQLModel table instance
# (validation and ORM instrumentation) cost more than the insert itself.
NewObservation = ObservationRow


@dataclass
class Created:
    observation: Observation | NewObservation
    tags: list[tuple[uuid.UUID, int]]
    created: bool


def create(session: Session, *, data: ObservationCreate, user: User) -> Created:
    """The same user re-sending an equivalent payload under the same id gets the stored one
    back (created False); anything else under that id is a 409; a deleted one 410."""
    digest = payload_digest(data)
    try:
        row, tag_rows = prepare(data, load_context(session, user, [data]), digest)
    except AppError:
        # A replay is judged against what is stored, not against today's catalogue.
        existing = session.get(Observation, data.id) if data.id is not None else None
        if existing is None:
            raise
        return _replay_result(session, existing, user, digest)
    if insert_rows(session, [row]) is not None:  # not inserted: the id exists
        existing = session.get(Observation, row.id)
        assert existing is not None  # the conflict was on this id
        return _replay_result(session, existing, user, digest)
    insert_tags(session, tag_rows)
    if data.attachment_ids:
        attachments.claim(
            session, user=user, observation_id=row.id, attachment_ids=data.attachment_ids
        )
    tags = [(t.pain_point_id, t.severity) for t in tag_rows]
    return Created(row, tags, True)


def _replay_result(session: Session, existing: Observation, user: User, digest: str) -> Created:
    obs = _replayed(existing, user, digest)
    return Created(obs, current_tags(session, [obs.id]).get(obs.id, []), False)


def _replayed(existing: Observation, user: User, digest: str) -> Observation:
    if existing.observer_id != user.id or existing.payload_hash != digest:
        raise Conflict("An observation with this id already exists with other content.")
    if existing.deleted_at is not None:
        raise Gone("This observation was deleted; it will not be created again.")
    return existing


def get_visible(session: Session, user: User, observation_id: uuid.UUID) -> Observation:
    obs = session.get(Observation, observation_id)
    if (
        obs is None
        or obs.deleted_at is not None
        or (obs.observer_id != user.id and not user.is_manager)
    ):
        raise NotFound("No such observation.")
    return obs


def _check_may_edit(obs: Observation, user: User) -> None:
    if user.is_manager:
        return
    if utcnow() - obs.created_at > EDIT_WINDOW:
        raise Forbidden("Observers may change their observations for 24 hours after logging them.")


def update(
    session: Session, *, obs: Observation, data: ObservationUpdate, user: User
) -> Observation:
    """Applies the sent fields, then checks the result by the same rules as a create."""
    _check_may_edit(obs, user)
    changes = data.model_dump(exclude_unset=True)
    for key in (
        "journey_id",
        "observed_at",
        "note",
        "customer_goal",
        "customer_quote",
        "pain_points",  # [] removes every tag
    ):
        if key in changes and changes[key] is None:
            raise Invalid(key, "may not be null")
    before = public_many(session, [obs])[0]
    merged = before.model_dump(exclude={"observer_id", "created_at", "updated_at"})
    merged.update(data.model_dump(exclude_unset=True))
    try:
        target = ObservationCreate.model_validate(merged)
    except ValidationError as exc:  # e.g. more tags than allowed after the merge of fields
        first = validation_errors(exc.errors())[0]
        raise Invalid(first["field"], first["message"]) from None
    row, tag_rows = prepare(target, load_context(session, user, [target]), obs.payload_hash)
    for key in (
        "journey_id",
        "visit_id",
        "site_id",
        "channel",
        "observed_at",
        "note",
        "customer_goal",
        "customer_quote",
        "customer_minutes_lost",
        "lat",
        "lon",
        "accuracy_m",
    ):
        setattr(obs, key, getattr(row, key))
    obs.updated_at = utcnow()
    session.add(obs)
    session.flush()
    if "pain_points" in changes:
        session.execute(delete(ObservationTag).where(col(ObservationTag.observation_id) == obs.id))
        if tag_rows:
            session.execute(insert(ObservationTag), [t._asdict() for t in tag_rows])
    if "attachment_ids" in changes:
        attachments.claim(
            session, user=user, observation_id=obs.id, attachment_ids=target.attachment_ids
        )
    if obs.observer_id != user.id:
        record(session, user, "observation.update", "observation", obs.id, fields=sorted(changes))
    return obs


def soft_delete(session: Session, *, obs: Observation, user: User) -> None:
    _check_may_edit(obs, user)
    obs.deleted_at = utcnow()
    obs.deleted_by = user.id
    obs.updated_at = obs.deleted_at
    session.add(obs)
    session.flush()
    if obs.observer_id != user.id:
        record(
            session, user, "observation.delete", "observation", obs.id, observer_id=obs.observer_id
        )


def current_tags(
    session: Session, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[uuid.UUID, int]]]:
    out: dict[uuid.UUID, list[tuple[uuid.UUID, int]]] = defaultdict(list)
    if ids:
        stmt = (
            select(
                col(ObservationTag.observation_id),
                col(ObservationTag.pain_point_id),
                col(ObservationTag.severity),
            )
            .where(col(ObservationTag.observation_id).in_(ids))
            .order_by(
                col(ObservationTag.observation_id),
                col(ObservationTag.severity).desc(),
                col(ObservationTag.pain_point_id),
            )
        )
        for oid, pid, sev in session.execute(stmt):
            out[oid].append((pid, sev))
    return out


def to_public(
    obs: Observation | NewObservation,
    tags: list[tuple[uuid.UUID, int]],
    attachment_ids: list[uuid.UUID],
) -> ObservationPublic:
    return ObservationPublic(
        id=obs.id,
        journey_id=obs.journey_id,
        visit_id=obs.visit_id,
        site_id=obs.site_id,
        channel=Channel(obs.channel) if obs.channel else None,
        observed_at=obs.observed_at,
        note=obs.note,
        customer_goal=obs.customer_goal,
        customer_quote=obs.customer_quote,
        customer_minutes_lost=obs.customer_minutes_lost,
        pain_points=[TagPublic(pain_point_id=p, severity=s) for p, s in tags],
        location=Location(lat=obs.lat, lon=obs.lon, accuracy_m=obs.accuracy_m)
        if obs.lat is not None and obs.lon is not None
        else None,
        attachment_ids=attachment_ids,
        observer_id=obs.observer_id,
        created_at=obs.created_at,
        updated_at=obs.updated_at,
    )


def public_many(session: Session, rows: Sequence[Observation]) -> list[ObservationPublic]:
    ids = [o.id for o in rows]
    tags = current_tags(session, ids)
    atts = attachments.ids_for(session, ids)
    return [to_public(o, tags.get(o.id, []), atts.get(o.id, [])) for o in rows]


def filtered(session: Session, user: User, f: Filters) -> Select[Any]:
    """The list's statement: visibility, soft deletes and every filter."""
    o, t = Observation, ObservationTag
    stmt = select(Observation).where(col(o.deleted_at).is_(None))
    if not user.is_manager:
        stmt = stmt.where(col(o.observer_id) == user.id)
    for name in ("journey_id", "site_id", "channel", "observer_id", "visit_id"):
        value = getattr(f, name)
        if value is not None:
            stmt = stmt.where(col(getattr(o, name)) == value)
    if f.start is not None:
        stmt = stmt.where(col(o.observed_at) >= f.start)
    if f.end is not None:
        stmt = stmt.where(col(o.observed_at) < f.end)
    if f.pain_point_id is not None:
        found = resolve(session, [f.pain_point_id]).get(f.pain_point_id)
        target = found.id if found else new_id()  # an unknown id matches nothing
        stmt = stmt.where(
            exists().where(col(t.observation_id) == col(o.id), col(t.pain_point_id) == target)
        )
    if f.stage_id is not None:
        stmt = stmt.where(
            exists()
            .where(col(t.observation_id) == col(o.id))
            .where(col(PainPoint.id) == col(t.pain_point_id), col(PainPoint.stage_id) == f.stage_id)
        )
    if f.untriaged is not None:
        tagged = exists().where(col(t.observation_id) == col(o.id))
        stmt = stmt.where(~tagged if f.untriaged else tagged)
    if f.q:
        for word in f.q.split()[:10]:
            pattern = f"%{_escape_like(word.lower())}%"
            stmt = stmt.where(
                or_(
                    *(
                        func.lower(col(getattr(o, field))).like(pattern, escape="\\")
                        for field in ("note", "customer_goal", "customer_quote")
                    )
                )
            )
    return stmt


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
