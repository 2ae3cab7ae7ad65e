"""Capacity reservation, server health and lifecycle, room history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _int(name: str, default: str = "0") -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=False, server_default=default)


def _bigint(name: str, default: str = "0") -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default=default)


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.String(length=512), nullable=False),
        _int("recent_peak"),
        _bigint("updated_ms"),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_rooms_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("tenant_id", "meeting_id", name="uq_rooms_tenant_meeting"),
    )
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(_int("reserved_participants"))
        batch_op.add_column(_bigint("reserved_until_ms"))
        batch_op.add_column(_int("live_participants"))
        batch_op.add_column(_int("peak_participants"))
        batch_op.add_column(_bigint("created_ms"))
        batch_op.add_column(sa.Column("seen_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("nonce", sa.String(length=32), nullable=False, server_default="")
        )
        batch_op.alter_column("server_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint(batch_op.f("fk_meetings_server_id_servers"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_meetings_server_id_servers"),
            "servers",
            ["server_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=False, server_default="1.0"))
        batch_op.add_column(
            sa.Column("tags", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="enabled")
        )
        batch_op.add_column(
            sa.Column("health", sa.String(length=16), nullable=False, server_default="available")
        )
        batch_op.add_column(_int("failures"))
        batch_op.add_column(_int("successes"))
        batch_op.add_column(_int("live_participants"))
        batch_op.add_column(_int("live_meetings"))
        batch_op.add_column(sa.Column("polled_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=512), nullable=True))
    op.execute(sa.text("UPDATE servers SET state = 'disabled' WHERE NOT enabled"))
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.drop_column("enabled")

    with op.batch_alter_table("tenants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_participants", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("default_duration_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pool_participants", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("default_tags", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("predict_size", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tenants", schema=None) as batch_op:
        for column in (
            "predict_size",
            "default_tags",
            "pool_participants",
            "default_duration_minutes",
            "default_participants",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("servers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.execute(sa.text("UPDATE servers SET enabled = (state = 'enabled')"))
    with op.batch_alter_table("servers", schema=None) as batch_op:
        for column in (
            "last_error",
            "polled_ms",
            "live_meetings",
            "live_participants",
            "successes",
            "failures",
            "health",
            "state",
            "tags",
            "weight",
        ):
            batch_op.drop_column(column)
    op.execute(sa.text("DELETE FROM meetings WHERE server_id IS NULL"))
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_meetings_server_id_servers"), type_="foreignkey")
        batch_op.create_foreign_key(
            batch_op.f("fk_meetings_server_id_servers"),
            "servers",
            ["server_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.alter_column("server_id", existing_type=sa.INTEGER(), nullable=False)
        for column in (
            "nonce",
            "seen_ms",
            "created_ms",
            "peak_participants",
            "live_participants",
            "reserved_until_ms",
            "reserved_participants",
        ):
            batch_op.drop_column(column)
    op.drop_table("rooms")
