"""observations: two fewer index entries per written observation — `ix_observations_observed_at_id`
dropped (its columns are the leading columns of `ix_observations_backlog`, which serves every
query it served), and the indexes of the optional `site_id` and `visit_id` made partial (only
rows that have one: every query on them compares them with a value, which implies NOT NULL)

Revision ID: b1a0c0de0016
Revises: b1a0c0de0015
Create Date: 2026-11-30 08:30:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0016"
down_revision: str | Sequence[str] | None = "b1a0c0de0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPTIONAL = ("site_id", "visit_id")


def upgrade() -> None:
    op.drop_index("ix_observations_observed_at_id", table_name="observations")
    for name in OPTIONAL:
        op.drop_index(f"ix_observations_{name}", table_name="observations")
        where = sa.text(f"{name} IS NOT NULL")
        op.create_index(
            f"ix_observations_{name}",
            "observations",
            [name],
            unique=False,
            sqlite_where=where,
            postgresql_where=where,
        )


def downgrade() -> None:
    for name in OPTIONAL:
        op.drop_index(f"ix_observations_{name}", table_name="observations")
        op.create_index(f"ix_observations_{name}", "observations", [name], unique=False)
    op.create_index(
        "ix_observations_observed_at_id", "observations", ["observed_at", "id"], unique=False
    )
