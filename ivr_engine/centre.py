"""The centre's time zone from settings: ``timezone`` if set, else the zone of the business hours.

The business hours are the ``hours`` nodes of the flows in ``settings.flows_dir`` (today one zone,
``flows/agent.yaml``'s). When the flows name several zones the first (sorted) is taken and the choice is
logged; when they cannot be loaded or name none, the centre runs on UTC until ``timezone`` is set.
"""

from __future__ import annotations

import logging

from ivr_engine.clock import CentreTime, default_zone_name
from ivr_engine.config import Settings
from ivr_engine.flow.errors import FlowError
from ivr_engine.flow.library import FlowLibrary

__all__ = ["centre_time"]

log = logging.getLogger(__name__)


def centre_time(settings: Settings, library: FlowLibrary | None = None) -> CentreTime:
    """The centre's zone; raises ClockError (a ConfigError) when ``timezone`` names no zone."""
    if settings.timezone:
        return CentreTime.named(settings.timezone)
    if library is None:
        try:
            library = FlowLibrary.from_paths([settings.flows_dir])
        except FlowError:
            log.warning("centre.timezone: flows do not load; the centre's day is the UTC day")
            return CentreTime.named("UTC")
    zones = library.hours_zones()
    if len(zones) > 1:
        log.warning(
            "centre.timezone: flows name zones %s; taking %s (set `timezone` to choose)",
            ", ".join(sorted(zones)),
            default_zone_name(zones),
        )
    return CentreTime.named(default_zone_name(zones))
