"""journeys, stages, sites: the create payload's digest and a stage's creator, so a replayed
create is judged on what was sent and by whom (SPEC §3 idempotent create)

Revision ID: b1a0c0de0010
Revises: b1a0c0de0006
Create Date: 2026-11-29 20:45:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b1a0c0de0010"
down_revision: str | Sequence[str] | None = "b1a0c0de0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("journeys", "stages", "sites")


def upgrade() -> None:
    # Existing rows get "": their replays fall back to comparing the stored fields.
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("payload_hash", sa.String(length=64), nullable=False, server_default="")
            )
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN with its named REFERENCES clause: a batch "move and copy" would
        # drop and recreate `stages`, which the foreign keys of pain_points forbid.
        op.execute(
            "ALTER TABLE stages ADD COLUMN created_by CHAR(32) "
            "CONSTRAINT fk_stages_created_by_users REFERENCES users (id)"
        )
    else:
        op.add_column("stages", sa.Column("created_by", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_stages_created_by_users"), "stages", "users", ["created_by"], ["id"]
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite reflects the column's REFERENCES clause without its name; the rebuild drops
        # it with the column.
        with op.batch_alter_table("stages", schema=None) as batch_op:
            batch_op.drop_column("created_by")
    else:
        op.drop_constraint(op.f("fk_stages_created_by_users"), "stages", type_="foreignkey")
        op.drop_column("stages", "created_by")
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("payload_hash")
