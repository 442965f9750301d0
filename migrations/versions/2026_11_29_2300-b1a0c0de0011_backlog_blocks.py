"""backlog: rollups over aligned blocks — `backlog_blocks` (4, 16 and 64 days),
`backlog_hour_blocks` (4 and 12 hours) and `backlog_presence` as sets of numbered members
(`backlog_members`) per block of 1, 4, 16 or 64 days instead of one bitmask row per member and
month — filled from the daily and hourly rollups

Revision ID: b1a0c0de0011
Revises: b1a0c0de0010
Create Date: 2026-11-29 23:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0011"
down_revision: str | Sequence[str] | None = "b1a0c0de0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SPANS = (64, 16, 4)
HOUR_SPANS = (12, 4)
CHUNK = 63
KEY = ("dim", "dim_value", "member_kind", "pain_point_id", "member")


def _day_number(sqlite: bool, column: str = "day") -> str:
    if sqlite:
        return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"
    return f"({column} - DATE '1970-01-01')"


def _block(sqlite: bool, span: int, column: str = "day") -> str:
    offset = f"({_day_number(sqlite, column)} % {span})"
    return f"date({column}, '-' || {offset} || ' days')" if sqlite else f"({column} - {offset})"


def _bit_or(sqlite: bool, bit: str) -> str:
    return f"sum(DISTINCT 1 << {bit})" if sqlite else f"bit_or(1::bigint << {bit})"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "backlog_blocks",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("severity_sum", sa.Integer(), nullable=False),
        sa.Column("minutes_sum", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim", "dim_value", "span", "day", "pain_point_id", name="pk_backlog_blocks"
        ),
    )
    # Derived from the daily rollups, whose dirty days readers skip (with their blocks) until
    # a refresh recomputes them: exact from the first read.
    for span in SPANS:
        block = _block(sqlite, span)
        op.execute(
            "INSERT INTO backlog_blocks (dim, dim_value, span, day, pain_point_id, n,"
            " severity_sum, minutes_sum, first_at, last_at) "
            f"SELECT dim, dim_value, {span}, {block}, pain_point_id, sum(n), sum(severity_sum),"
            " sum(minutes_sum), min(first_at), max(last_at) FROM backlog_daily "
            f"GROUP BY dim, dim_value, {block}, pain_point_id"
        )
    op.create_table(
        "backlog_hour_blocks",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("severity_sum", sa.Integer(), nullable=False),
        sa.Column("minutes_sum", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim",
            "dim_value",
            "day",
            "span",
            "hour",
            "pain_point_id",
            name="pk_backlog_hour_blocks",
        ),
    )
    for span in HOUR_SPANS:
        hour = f"(hour / {span}) * {span}"
        op.execute(
            "INSERT INTO backlog_hour_blocks (dim, dim_value, day, span, hour, pain_point_id,"
            " n, severity_sum, minutes_sum, first_at, last_at) "
            f"SELECT dim, dim_value, day, {span}, {hour}, pain_point_id, sum(n),"
            " sum(severity_sum), sum(minutes_sum), min(first_at), max(last_at) "
            f"FROM backlog_hourly GROUP BY dim, dim_value, day, {hour}, pain_point_id"
        )
    op.drop_table("backlog_presence")
    op.create_table(
        "backlog_members",
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "member", name="pk_backlog_members"),
        sa.UniqueConstraint("kind", "idx", name="uq_backlog_members_kind_idx"),
    )
    op.execute(
        "INSERT INTO backlog_members (kind, member, idx) SELECT member_kind, member,"
        " row_number() OVER (PARTITION BY member_kind ORDER BY member) - 1 FROM"
        " (SELECT DISTINCT member_kind, member FROM backlog_presence_daily) x"
    )
    op.create_table(
        "backlog_presence",
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("span", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("member_kind", sa.String(length=1), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "dim",
            "dim_value",
            "span",
            "day",
            "member_kind",
            "pain_point_id",
            "chunk",
            name="pk_backlog_presence",
        ),
    )
    for span in (*SPANS, 1):
        block = _block(sqlite, span, "p.day")
        op.execute(
            "INSERT INTO backlog_presence (dim, dim_value, span, day, member_kind,"
            " pain_point_id, chunk, bits) "
            f"SELECT p.dim, p.dim_value, {span}, {block}, p.member_kind, p.pain_point_id,"
            f" m.idx / {CHUNK}, {_bit_or(sqlite, f'(m.idx % {CHUNK})')} "
            "FROM backlog_presence_daily p JOIN backlog_members m"
            " ON m.kind = p.member_kind AND m.member = p.member "
            f"GROUP BY p.dim, p.dim_value, {block}, p.member_kind, p.pain_point_id,"
            f" m.idx / {CHUNK}"
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_table("backlog_presence")
    op.drop_table("backlog_members")
    op.create_table(
        "backlog_presence",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("dim", sa.String(length=1), nullable=False),
        sa.Column("dim_value", sa.String(length=32), nullable=False),
        sa.Column("member_kind", sa.String(length=1), nullable=False),
        sa.Column("pain_point_id", sa.Uuid(), nullable=False),
        sa.Column("member", sa.String(length=32), nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("month", *KEY, name="pk_backlog_presence"),
    )
    if sqlite:
        month = "(substr(day, 1, 7) || '-01')"
        bits = "sum(DISTINCT 1 << (CAST(substr(day, 9, 2) AS INTEGER) - 1))"
    else:
        month = "date_trunc('month', day)::date"
        bits = "bit_or(1::bigint << (extract(day FROM day)::int - 1))"
    columns = ", ".join(KEY)
    op.execute(
        f"INSERT INTO backlog_presence (month, {columns}, bits) "
        f"SELECT {month}, {columns}, {bits} FROM backlog_presence_daily "
        f"GROUP BY {month}, {columns}"
    )
    op.drop_table("backlog_hour_blocks")
    op.drop_table("backlog_blocks")
