"""The storage domain's exceptions: everything the storage layer raises derives from ``StorageError``."""

from __future__ import annotations

__all__ = ["DatabaseUnavailable", "InvalidRecord", "MigrationError", "StorageError"]


class StorageError(Exception):
    """Base of every storage failure; the message is fit to show an operator."""


class DatabaseUnavailable(StorageError):
    """The database could not be reached or refused the connection (outage, wrong URL, no driver)."""


class MigrationError(StorageError):
    """The schema could not be brought to the expected revision."""


class InvalidRecord(StorageError):
    """A caller handed the storage layer a value it must not store (e.g. a survey score outside 1-5)."""
