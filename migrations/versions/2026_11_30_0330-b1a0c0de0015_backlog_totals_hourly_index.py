"""backlog: an index of `backlog_totals_hourly` by slice, kind and time — the totals of all
journeys (no `value`) scanned every journey's hours of the slice through the primary key
(`value` sits before `day`): ~13,000 index entries, 2–3 ms per backlog read at any volume

Revision ID: b1a0c0de0015
Revises: b1a0c0de0014
Create Date: 2026-11-30 03:30:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b1a0c0de0015"
down_revision: str | Sequence[str] | None = "b1a0c0de0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_backlog_totals_hourly_slice_time"


def upgrade() -> None:
    op.create_index(
        INDEX, "backlog_totals_hourly", ["dim", "dim_value", "kind", "day", "hour"], unique=False
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="backlog_totals_hourly")
