"""backlog: covering indexes for the backlog's range scan and tag lookup

Revision ID: b1a0c0de0004
Revises: b1a0c0de0003
Create Date: 2026-11-24 09:43:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b1a0c0de0004"
down_revision: str | Sequence[str] | None = "b1a0c0de0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_observations_backlog",
        "observations",
        [
            "observed_at",
            "id",
            "deleted_at",
            "journey_id",
            "site_id",
            "channel",
            "observer_id",
            "customer_minutes_lost",
        ],
    )
    op.create_index(
        "ix_observation_tags_backlog",
        "observation_tags",
        ["observation_id", "pain_point_id", "severity"],
    )


def downgrade() -> None:
    op.drop_index("ix_observation_tags_backlog", table_name="observation_tags")
    op.drop_index("ix_observations_backlog", table_name="observations")
