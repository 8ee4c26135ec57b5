"""A screen-pop as terminal text, for ``ivr agent watch``."""

from __future__ import annotations

from ivr_engine.screenpop.model import ScreenPop

__all__ = ["format_screen_pop"]


def format_screen_pop(pop: ScreenPop) -> str:
    c = pop.customer
    when = pop.answered_at.strftime("%Y-%m-%d %H:%M:%S")
    if pop.reason == "callback":
        head = f"== {when}  callback to {pop.caller}, booked on call {pop.call_id}"
    elif pop.visit is not None:
        head = f"== {when}  return visit to {pop.caller} for work order {pop.visit.serial}"
    else:
        head = f"== {when}  call {pop.call_id}  from {pop.caller or 'withheld number'}"
    lines = [head + (f"  queue {pop.queue}" if pop.queue else "")]
    if pop.visit is not None:
        lines.append(f"Work order {pop.visit.serial} ({pop.visit.kind}): {pop.visit.description}")
        lines.append(f"  resolution: {pop.visit.resolution}")
        lines.append(f"  ask: satisfied? record it: ivr ticket visit {pop.visit.serial} --outcome ...")
    if c.known:
        vip = f"  VIP (level {c.vip_level})" if c.vip else ""
        lines.append(f"Customer: {c.name} (#{c.customer_id}){vip}")
    else:
        record = f" (customer #{c.customer_id}, no name yet)" if c.customer_id is not None else ""
        lines.append(f"Customer: {c.label} {c.phone or '(number withheld)'}{record}")
    for account in c.accounts:
        lines.append(f"  account {account.number}  balance {account.balance}")
    for order in c.orders:
        due = f"  due {order.expected_delivery}" if order.expected_delivery else ""
        lines.append(f"  order {order.number}  {order.status}{due}")
    if c.points is not None:
        lines.append(f"  loyalty points {c.points}")
    lines.append("IVR path:" if pop.path else "IVR path: (none logged)")
    for step in pop.path:
        given = f"  input {step.input}" if step.input else ""
        lines.append(f"  {step.seq:>3}  {step.flow}/{step.node} ({step.node_type}){given}  -> {step.outcome}")
    lines.append("Last calls:" if pop.last_calls else "Last calls: none")
    for call in pop.last_calls:
        took = "in progress" if call.seconds is None else f"{call.seconds:.0f} s"
        lines.append(
            f"  {call.started.strftime('%Y-%m-%d %H:%M')}  dialled {call.dialled}  {call.disposition}  {took}"
        )
    return "\n".join(lines)
