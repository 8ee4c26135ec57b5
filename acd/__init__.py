"""Skills-based automatic call distribution: the pure router here, the live parts in subpackages.

The core modules of this package do no I/O: start with ``Acd`` (acd.engine) over an ``AcdStore``
(acd.store), configured from ``acd.yaml`` (acd.config), choosing agents by the strategies of
acd.strategies. Every method takes the clock value and returns typed events (acd.events). The state lives
in a ``MemoryStore`` or, to survive restarts and be shared by several nodes, in an
``acd.sql_store.SqlStore`` (SQLite or PostgreSQL). ``acd.live`` drives the engine over ARI for
``ivr serve``; ``acd.records`` keeps its facts in the service's database. Importing ``acd`` imports none
of these three.
"""

from acd.agent_state import TRANSITIONS, StateChange
from acd.config import AcdConfig, load_acd_config, parse_acd_config
from acd.engine import NO_ANSWER, Acd, QueueStatus
from acd.errors import (
    AcdConfigError,
    AcdError,
    DuplicateCall,
    InvalidTransition,
    NoOffer,
    OfferConflict,
    StoreError,
    UnknownAgent,
    UnknownCall,
    UnknownQueue,
    UnknownStrategy,
)
from acd.estimate import WaitAccuracy, expected_wait
from acd.events import (
    AcdEvent,
    CallAbandoned,
    CallAnswered,
    CallOverflowed,
    CallQueued,
    OfferEnded,
    OfferMade,
    OfferResult,
)
from acd.model import (
    CALLBACK_PREFIX,
    Agent,
    AgentState,
    Decision,
    EscalationStep,
    Offer,
    PassedOver,
    PassReason,
    PoolCounts,
    Queue,
    Strategy,
    WaitingCall,
    callback_entry,
    callback_of,
)
from acd.store import EVERY_QUEUE, AcdStore, MemoryStore
from acd.strategies import STRATEGIES, RoutingStrategy, strategy_for

__all__ = [
    "CALLBACK_PREFIX",
    "EVERY_QUEUE",
    "NO_ANSWER",
    "STRATEGIES",
    "TRANSITIONS",
    "Acd",
    "AcdConfig",
    "AcdConfigError",
    "AcdError",
    "AcdEvent",
    "AcdStore",
    "Agent",
    "AgentState",
    "CallAbandoned",
    "CallAnswered",
    "CallOverflowed",
    "CallQueued",
    "Decision",
    "DuplicateCall",
    "EscalationStep",
    "InvalidTransition",
    "MemoryStore",
    "NoOffer",
    "Offer",
    "OfferConflict",
    "OfferEnded",
    "OfferMade",
    "OfferResult",
    "PassReason",
    "PassedOver",
    "PoolCounts",
    "Queue",
    "QueueStatus",
    "RoutingStrategy",
    "StateChange",
    "StoreError",
    "Strategy",
    "UnknownAgent",
    "UnknownCall",
    "UnknownQueue",
    "UnknownStrategy",
    "WaitAccuracy",
    "WaitingCall",
    "callback_entry",
    "callback_of",
    "expected_wait",
    "load_acd_config",
    "parse_acd_config",
    "strategy_for",
]
