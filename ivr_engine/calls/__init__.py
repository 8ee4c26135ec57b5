"""The call contract (``CallInfo``, ``CallHandler``, ``ORIGINATED_MARKER``, ``Resynced``): below the
service and the ACD."""

from ivr_engine.calls.contract import ORIGINATED_MARKER, CallHandler, CallInfo, Resynced

__all__ = ["ORIGINATED_MARKER", "CallHandler", "CallInfo", "Resynced"]
