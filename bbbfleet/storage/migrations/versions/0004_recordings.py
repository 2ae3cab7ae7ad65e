"""The recording index: recordings and their metadata keys.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# byte order for prefix range scans (PostgreSQL's default collation is not)
BYTE_ORDERED_128 = sa.String(length=128).with_variant(
    sa.String(length=128, collation="C"), "postgresql"
)


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", BYTE_ORDERED_128, nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(length=512), nullable=False),
        sa.Column("backend_meeting_id", sa.String(length=512), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("meta", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("block", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=16), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.Column("gone_ms", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["servers.id"],
            name=op.f("fk_recordings_server_id_servers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_recordings_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("record_id", name=op.f("uq_recordings_record_id")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_server_id"), ["server_id"], unique=False)
        batch_op.create_index(
            "ix_recordings_tenant_start", ["tenant_id", "start_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_recordings_tenant_meeting", ["tenant_id", "meeting_id"], unique=False
        )

    op.create_table(
        "recording_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value_head", BYTE_ORDERED_128, nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_meta_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_meta")),
    )
    with op.batch_alter_table("recording_meta", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recording_meta_recording_id"), ["recording_id"], unique=False
        )
        batch_op.create_index(
            "ix_recording_meta_lookup",
            ["tenant_id", "key", "value_head", "start_time", "recording_id", "state", "listed"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("recording_meta", schema=None) as batch_op:
        batch_op.drop_index("ix_recording_meta_lookup")
        batch_op.drop_index(batch_op.f("ix_recording_meta_recording_id"))
    op.drop_table("recording_meta")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_tenant_meeting")
        batch_op.drop_index("ix_recordings_tenant_start")
        batch_op.drop_index(batch_op.f("ix_recordings_server_id"))
    op.drop_table("recordings")
