"""Hosted meetings: which server hosted which meeting, kept for a while after it ended (the
event ingress trusts a meetingID from a server only when that server hosted it).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosted_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("backend_meeting_id", sa.String(length=512), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["server_id"],
            ["servers.id"],
            name=op.f("fk_hosted_meetings_server_id_servers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosted_meetings")),
    )
    op.create_index(
        "ix_hosted_meetings_backend_server",
        "hosted_meetings",
        ["backend_meeting_id", "server_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_hosted_meetings_ended_ms"), "hosted_meetings", ["ended_ms"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_hosted_meetings_ended_ms"), table_name="hosted_meetings")
    op.drop_index("ix_hosted_meetings_backend_server", table_name="hosted_meetings")
    op.drop_table("hosted_meetings")
