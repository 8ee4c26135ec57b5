"""Work orders (工单): a caller's request logged with a serial number, dispatched to a department,
tracked against a deadline per step, closed with a resolution and followed by a return visit.

``model`` (records), ``policy`` (``workorders.yaml``), ``rules`` (pure), ``rows`` (tables), ``store``
(units of work on a database session), ``screenpop`` (the screen-pop's open orders), ``errors``. The CLI is
``ivr ticket`` (commands/tickets.py); the desktop's routes are ``ivr_engine.web.work_orders``.
"""
