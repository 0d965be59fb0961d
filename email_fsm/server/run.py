"""``email-fsm serve``: the server under uvicorn, from the command line
(its options are defined in :mod:`email_fsm.cli`, which loads this module only to run).

Shutting down (Ctrl-C, SIGTERM) first answers every held CometD connect, so that uvicorn
does not wait for long-polls to time out, then gives requests under way
:data:`GRACEFUL_SECONDS` to finish.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from ..config import Config
from .app import ServerSettings, create_app
from .auth import Directory
from .eventlog import open_log
from .service import RoutingSettings

__all__ = ["GRACEFUL_SECONDS", "serve", "settings_from"]

GRACEFUL_SECONDS = 3
"""How long requests under way may take to finish once shutdown starts."""


def settings_from(arguments: argparse.Namespace) -> ServerSettings:
    """The server settings of parsed ``serve`` options (``ValueError`` for a bad one)."""
    if arguments.agents:
        directory = Directory.from_file(Path(arguments.agents))
    elif arguments.open:
        directory = Directory.open()
    else:
        raise ValueError("give --agents FILE, or --open to accept any agent")
    if arguments.capacity < 1:
        raise ValueError("--capacity must be at least 1")
    base_url = arguments.base_url or f"http://{arguments.host}:{arguments.port}"
    return ServerSettings(
        directory=directory,
        log=open_log(arguments.store, synchronous=arguments.synchronous),
        config=Config(base_url=base_url.rstrip("/")),
        csrf=arguments.csrf,
        routing=RoutingSettings(
            capacity=arguments.capacity,
            offer_timeout=arguments.offer_timeout or None,
            enabled=not arguments.no_router,
        ),
        websocket=not arguments.no_websocket,
    )


class _Server(uvicorn.Server):
    """uvicorn, answering the held long-polls as soon as shutdown starts."""

    hub_close: object = None

    async def shutdown(self, sockets: Sequence[object] | None = None) -> None:
        close = self.hub_close
        if callable(close):
            close()
        await super().shutdown(sockets)  # type: ignore[arg-type]


def serve(settings: ServerSettings, *, host: str, port: int, quiet: bool = False) -> None:
    """Run the server until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("email_fsm.server").setLevel(logging.WARNING if quiet else logging.INFO)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ws="websockets-sansio" if settings.websocket else "none",
        lifespan="on",
    )
    server = _Server(config)
    server.hub_close = app.state.hub.close
    store = settings.log
    where = getattr(store, "path", None)
    print(
        f"email-fsm serving GWS at http://{host}:{port}/api/v2 "
        f"(CometD at /api/v2/notifications; store: {where or 'memory'}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    server.run()
