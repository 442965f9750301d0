"""observations: search and write path (reserved for the observations work)

Revision ID: b1a0c0de0002
Revises: b1a0c0de0001
Create Date: 2026-11-24 09:41:00+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b1a0c0de0002"
down_revision: str | Sequence[str] | None = "b1a0c0de0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The observation list pages on (created_at, id), newest first.
    op.create_index("ix_observations_created_at_id", "observations", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_observations_created_at_id", table_name="observations")
