"""improvements: the create payload's digest (idempotent replays) and the list's keyset index

Revision ID: b1a0c0de0005
Revises: b1a0c0de0004
Create Date: 2026-11-24 09:44:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0005"
down_revision: str | Sequence[str] | None = "b1a0c0de0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("improvements", schema=None) as batch_op:
        # Existing rows get "": a replay of their id is a 409 (no payload to compare).
        batch_op.add_column(
            sa.Column("payload_hash", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.create_index(
            batch_op.f("ix_improvements_created_at_id"), ["created_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("improvements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_improvements_created_at_id"))
        batch_op.drop_column("payload_hash")
