"""``email-fsm serve``: the server under uvicorn, from the command line
(its options are defined in :mod:`email_fsm.cli`, which loads this module only to run).

Shutting down (Ctrl-C, SIGTERM) first answers every held CometD connect, so that uvicorn
does not wait for long-polls to time out, then gives requests under way
:data:`GRACEFUL_SECONDS` to finish.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

from ..config import Config
from .app import ServerSettings, create_app, websocket_available
from .auth import Directory
from .bayeux import Hub
from .demo import DEFAULT_STORE, DemoSettings
from .eventlog import LogInUseError, SQLiteLog, open_log
from .service import RoutingSettings

__all__ = ["GRACEFUL_SECONDS", "UvicornServer", "serve", "settings_from", "uvicorn_server"]

GRACEFUL_SECONDS = 3
"""How long requests under way may take to finish once shutdown starts."""


def settings_from(arguments: argparse.Namespace) -> ServerSettings:
    """The server settings of parsed ``serve`` options (``ValueError`` for a bad one)."""
    demo = DemoSettings() if getattr(arguments, "demo", False) else None
    if arguments.agents:
        directory = Directory.from_file(Path(arguments.agents))
    elif arguments.open:
        directory = Directory.open()
    elif demo is not None:
        directory = demo.directory()
    else:
        raise ValueError("give --agents FILE, or --open to accept any agent")
    if arguments.capacity < 1:
        raise ValueError("--capacity must be at least 1")
    workers = getattr(arguments, "workers", 1)
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers > 1 and not arguments.store.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"--workers {workers} needs a store the processes share: --store postgresql://... "
            "(an SQLite file, or memory, is one process's)"
        )
    base_url = arguments.base_url or f"http://{arguments.host}:{arguments.port}"
    if demo is not None and arguments.store == DEFAULT_STORE:
        arguments.store = "memory"  # a demo starts afresh and leaves no file behind
    log = open_log(arguments.store, synchronous=arguments.synchronous)
    if isinstance(log, SQLiteLog):
        try:
            log.acquire()  # refused now, with one line, rather than at start-up
        except LogInUseError as error:
            log.close()
            raise ValueError(str(error)) from None
    return ServerSettings(
        directory=directory,
        log=log,
        config=Config(base_url=base_url.rstrip("/")),
        csrf=arguments.csrf,
        routing=RoutingSettings(
            capacity=arguments.capacity,
            offer_timeout=arguments.offer_timeout or None,
            enabled=not arguments.no_router,
        ),
        websocket=not arguments.no_websocket,
        inspector=not getattr(arguments, "no_inspector", False),
        demo=demo,
    )


class UvicornServer(uvicorn.Server):
    """uvicorn, answering the held CometD connects as soon as shutdown starts (uvicorn
    would otherwise wait for each long-poll to time out)."""

    def __init__(self, config: uvicorn.Config, hub: Hub) -> None:
        super().__init__(config)
        self.hub = hub

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.hub.close()
        inspector = getattr(getattr(self.config.app, "state", None), "inspector", None)
        if inspector is not None:
            inspector.close()  # its event streams end now too
        await super().shutdown(sockets)


def _websocket_protocol(settings: ServerSettings) -> str:
    if not websocket_available(settings):
        return "none"
    return "websockets-sansio" if importlib.util.find_spec("websockets") else "wsproto"


def uvicorn_server(settings: ServerSettings, *, host: str, port: int) -> UvicornServer:
    """The server of ``settings`` under uvicorn, ready to ``run()`` (or ``await serve()``)."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
        ws=_websocket_protocol(settings),
        lifespan="on",
    )
    return UvicornServer(config, app.state.hub)


def serve(
    settings: ServerSettings, *, host: str, port: int, quiet: bool = False, workers: int = 1
) -> None:
    """Run the server until interrupted; ``workers`` > 1 runs that many processes on
    the one listening socket (the system spreads the connections), for a store they
    share (PostgreSQL)."""
    if workers > 1:
        _serve_workers(settings, host=host, port=port, quiet=quiet, workers=workers)
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("email_fsm.server").setLevel(logging.WARNING if quiet else logging.INFO)
    server = uvicorn_server(settings, host=host, port=port)
    where = getattr(settings.log, "path", None)
    print(
        f"email-fsm serving GWS at http://{host}:{port}/api/v2 "
        f"(CometD at /api/v2/notifications; store: {where or 'memory'}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    if settings.demo is not None:
        print(settings.demo.banner(f"http://{host}:{port}"), file=sys.stderr, flush=True)
    server.run()


def _serve_workers(
    settings: ServerSettings, *, host: str, port: int, quiet: bool, workers: int
) -> None:
    """Bind the socket here, fork ``workers`` processes that serve on it, and stop them
    all when this process is interrupted or terminated."""
    import multiprocessing
    import signal

    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind((host, port))
    listening.listen(2048)
    listening.set_inheritable(True)
    context = multiprocessing.get_context("fork")
    children = [
        context.Process(
            target=_worker, args=(settings, listening, host, port, quiet), name=f"worker-{n}"
        )
        for n in range(1, workers + 1)
    ]
    where = getattr(settings.log, "path", None)
    print(
        f"email-fsm serving GWS at http://{host}:{port}/api/v2 with {workers} processes "
        f"(store: {where}); Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )
    for child in children:
        child.start()

    def stop(signum: int, frame: object) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                os.kill(child.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        for child in children:
            child.join()
    except KeyboardInterrupt:  # the terminal's Ctrl-C reached the workers too
        for child in children:
            child.join(GRACEFUL_SECONDS + 5)
    finally:
        listening.close()


def _worker(
    settings: ServerSettings, listening: socket.socket, host: str, port: int, quiet: bool
) -> None:
    """One process of ``serve --workers``: the server on the inherited socket."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    logging.getLogger("email_fsm.server").setLevel(logging.WARNING if quiet else logging.INFO)
    server = uvicorn_server(settings, host=host, port=port)
    server.run(sockets=[listening])
