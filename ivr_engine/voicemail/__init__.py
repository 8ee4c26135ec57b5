"""The voicemail inbox: every message left in a ``record`` node's mailbox, listed, played, closed, or
turned into a callback or a work order. ``model`` (records), ``inbox`` (units of work on a database
session), ``errors``. The CLI is ``ivr voicemail``; the web routes are ``ivr_engine.web.voicemail``."""
