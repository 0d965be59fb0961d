"""A GWS-compatible server: the Email API v2 over HTTP, its notifications over CometD.

Install with ``pip install 'email-fsm[server]'``; run with ``email-fsm serve``
(``docs/server.md``), or mount :func:`create_app`'s ASGI application in a process of
your own. The server is a thin shell around the model: requests become commands for
:func:`~email_fsm.decide`, the events go to an append-only log
(:mod:`email_fsm.server.eventlog`) before anyone is answered, the notifications go to
the agents' CometD sessions (:mod:`email_fsm.server.bayeux`), and a router offers the
queued emails (:mod:`email_fsm.server.service`).
"""

from __future__ import annotations

from .app import ACCESS_DENIED, ServerSettings, create_app
from .auth import Agent, Directory
from .bayeux import Hub
from .eventlog import EventLog, MemoryLog, SQLiteLog, open_log
from .service import ContactCenterService, OldestFirstRouter, Router, RoutingSettings

__all__ = [
    "ACCESS_DENIED",
    "Agent",
    "ContactCenterService",
    "Directory",
    "EventLog",
    "Hub",
    "MemoryLog",
    "OldestFirstRouter",
    "Router",
    "RoutingSettings",
    "SQLiteLog",
    "ServerSettings",
    "create_app",
    "open_log",
]
