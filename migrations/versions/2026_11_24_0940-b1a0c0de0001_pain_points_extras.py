"""pain points: the create payload's digest, so replays are judged on what was sent

Revision ID: b1a0c0de0001
Revises: 1b4f3f309a5e
Create Date: 2026-11-24 09:40:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0001"
down_revision: str | Sequence[str] | None = "1b4f3f309a5e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get "": their replays fall back to comparing the stored fields.
    for table in ("pain_points", "pain_point_aliases"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("payload_hash", sa.String(length=64), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in ("pain_point_aliases", "pain_points"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("payload_hash")
