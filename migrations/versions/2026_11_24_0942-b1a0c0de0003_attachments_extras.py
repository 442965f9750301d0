"""attachments: the stored thumbnail's key and the digest of the upload as sent (replays)

Revision ID: b1a0c0de0003
Revises: b1a0c0de0002
Create Date: 2026-11-24 09:42:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0003"
down_revision: str | Sequence[str] | None = "b1a0c0de0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get "": their thumbnail is made on the fly, and a replay compares nothing.
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("thumbnail_key", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("upload_sha256", sa.String(length=64), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("upload_sha256")
        batch_op.drop_column("thumbnail_key")
