"""What the control API tests share besides the fake ACD (tests/acd_control_fakes.py): the bearer token."""

from __future__ import annotations

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
