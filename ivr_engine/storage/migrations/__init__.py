"""Alembic migrations for the ivr-engine schema; run through ``ivr_engine.storage.migrate``."""
