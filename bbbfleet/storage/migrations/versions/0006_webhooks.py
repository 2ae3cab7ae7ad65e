"""Webhooks: tenants' hooks, the persistent delivery queue, per-tenant webhook settings.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("allow_tenant_hooks", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("hook_checksum_version", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("hook_personal_data", sa.String(length=8), nullable=True))
    op.create_table(
        "hooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hook_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("callback_url", sa.Text(), nullable=False),
        sa.Column("meeting_id", sa.String(length=512), nullable=True),
        sa.Column("event_ids", sa.Text(), nullable=True),
        sa.Column("raw", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_hooks_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hooks")),
        sa.UniqueConstraint("hook_id", name=op.f("uq_hooks_hook_id")),
    )
    op.create_index(op.f("ix_hooks_tenant_id"), "hooks", ["tenant_id"], unique=False)
    op.create_table(
        "hook_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hook_id", sa.Integer(), nullable=True),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False, server_default="POST"),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("created_ms", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(
            ["hook_id"],
            ["hooks.id"],
            name=op.f("fk_hook_deliveries_hook_id_hooks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_hook_deliveries_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hook_deliveries")),
    )
    op.create_index(
        op.f("ix_hook_deliveries_hook_id"), "hook_deliveries", ["hook_id"], unique=False
    )
    op.create_index(
        op.f("ix_hook_deliveries_next_attempt_ms"),
        "hook_deliveries",
        ["next_attempt_ms"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hook_deliveries_next_attempt_ms"), table_name="hook_deliveries")
    op.drop_index(op.f("ix_hook_deliveries_hook_id"), table_name="hook_deliveries")
    op.drop_table("hook_deliveries")
    op.drop_index(op.f("ix_hooks_tenant_id"), table_name="hooks")
    op.drop_table("hooks")
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.drop_column("hook_personal_data")
        batch_op.drop_column("hook_checksum_version")
        batch_op.drop_column("allow_tenant_hooks")
