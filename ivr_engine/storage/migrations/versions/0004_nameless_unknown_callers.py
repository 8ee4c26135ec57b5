"""customers: unknown callers are kept without a name, not as a customer named "unknown caller"

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03

The screen-pop used to create the customer row of an unknown number with the name "unknown caller",
so the next call from that number was greeted "Hello unknown caller." and shown as known. Such rows
now have an empty name, which the IVR lookups and the screen-pop treat as a caller not known yet.
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_FAKE_NAME = "unknown caller"


def upgrade() -> None:
    op.execute(f"UPDATE customers SET name = '' WHERE name = '{_FAKE_NAME}'")


def downgrade() -> None:
    op.execute(f"UPDATE customers SET name = '{_FAKE_NAME}' WHERE name = ''")
