"""The ASGI application: GWS's HTTP API, its CometD endpoint, the contact-center API.

:func:`create_app` builds it from :class:`ServerSettings`; ``email-fsm serve`` runs it
with uvicorn (:mod:`email_fsm.server.run`), and a user's own process can mount it.
Routes (``docs/server.md`` describes each):

- ``GET /api/v2/me`` (``?subresources=``), ``POST /api/v2/me`` (Start/EndContactCenterSession)
- ``GET /api/v2/me/emails`` (``?fields=*``), ``GET /api/v2/me/emails/{id}``
- ``POST /api/v2/me/emails`` (Create), ``POST /api/v2/me/emails/{id}`` (every operation)
- ``POST /api/v2/notifications[/{handshake,connect,...}]`` and a WebSocket there: CometD
- ``POST /sim/events`` (Arrive, Offer, Revoke), ``GET /sim/emails``: the contact center's side
- ``GET /desktop`` (an agent desktop in the browser), ``/static/...`` (its files),
  ``GET /inspector[/state,/feed,/emails/{id}]`` (:mod:`email_fsm.server.inspector`)
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..commands import Arrive
from ..config import DEFAULT_CONFIG, Config
from ..decisions import Refused
from ..email import email_to_json
from ..policies import Policy
from ..views import view
from ..vocabulary import HOLDER_VIEWS, StatusCode
from .auth import Directory, Session, Sessions, basic_credentials
from .bayeux import BayeuxError, Hub, Reply
from .demo import Demo, DemoSettings
from .eventlog import EventLog, LogClosedError, MemoryLog
from .inspector import STATIC, Inspector, page
from .inspector import routes as inspector_routes
from .service import SERVER_UNAVAILABLE, ContactCenterService, Router, RoutingSettings

__all__ = ["ServerSettings", "create_app"]

log = logging.getLogger("email_fsm.server")

ACCESS_DENIED = 20
"""GWS's ``statusCode`` for a request without valid credentials (HTTP 401)."""

_CSRF_HEADER = "X-CSRF-TOKEN"
_COOKIE = "JSESSIONID"


@dataclass(frozen=True, kw_only=True)
class ServerSettings:
    """Everything the server is made of; ``email-fsm serve``'s options set these."""

    directory: Directory = field(default_factory=Directory.open)
    """Who may log in (``--agents FILE``; ``--open``: anyone)."""
    log: EventLog = field(default_factory=MemoryLog)
    """Where the events go (``--store``)."""
    config: Config = DEFAULT_CONFIG
    """The model's settings; its ``base_url`` should be where the server is reached."""
    policies: Sequence[Policy] = ()
    csrf: bool = False
    """GWS's CSRF protection (``--csrf``): off by default, as in GWS."""
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    router: Router | None = None
    """The router (default: :class:`~email_fsm.server.OldestFirstRouter`)."""
    connect_timeout_ms: int = 30_000
    """How long a CometD connect is held (the advice's ``timeout``)."""
    session_timeout_ms: int = 10_000
    """A CometD session with no connect for this long is expired (``maxInterval``)."""
    max_queue: int = 1_000
    """A CometD session with more messages waiting is dropped."""
    websocket: bool = True
    """Offer CometD's ``websocket`` transport (besides ``long-polling``)."""
    sim_api: bool = True
    """Serve the contact-center API under ``/sim``."""
    inspector: bool = True
    """Serve the live inspector under ``/inspector`` (to loopback clients only;
    ``--no-inspector`` turns it off)."""
    demo: DemoSettings | None = None
    """Run the demo's arrivals and bots (``--demo``, :mod:`email_fsm.server.demo`)."""


def websocket_available(settings: ServerSettings) -> bool:
    """Whether to offer CometD's ``websocket`` transport: asked for, and a WebSocket
    library the ASGI server can use is installed (``websockets`` or ``wsproto``)."""
    return settings.websocket and any(
        importlib.util.find_spec(name) is not None for name in ("websockets", "wsproto")
    )


def _json(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False), status, headers, media_type="application/json"
    )


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not JSON")


def _strict_loads(body: bytes) -> Any:
    """JSON as the model reads a request body: ``NaN`` and ``Infinity`` are not JSON."""
    return json.loads(body, parse_constant=_not_json)


def _refusal(code: int, message: str, status: int = 200) -> Response:
    return _json({"statusCode": code, "statusMessage": message}, status)


class _Server:
    """The request handlers, around one :class:`ContactCenterService`."""

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        types = ["websocket", "long-polling"] if websocket_available(settings) else ["long-polling"]
        # A log several processes share makes the hub and the HTTP sessions shared too.
        make_hub = getattr(settings.log, "make_hub", Hub)
        self.hub: Hub = make_hub(
            timeout_ms=settings.connect_timeout_ms,
            max_interval_ms=settings.session_timeout_ms,
            max_queue=settings.max_queue,
            connection_types=types,
            answer_first_connect=True,
        )
        self.service = ContactCenterService(
            log=settings.log,
            config=settings.config,
            policies=settings.policies,
            hub=self.hub,
            routing=settings.routing,
            router=settings.router,
        )
        make_sessions = getattr(settings.log, "make_sessions", None)
        self.sessions: Sessions = (
            make_sessions(settings.directory) if make_sessions is not None else Sessions()
        )
        self.limit = settings.config.limits.max_body_bytes
        self.inspector = Inspector(self.service) if settings.inspector else None

    # ------------------------------------------------------------ life

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.service.start()
        log.info(
            "replayed %d events: %d emails", self.service.replayed, len(self.service.store.emails)
        )
        sweeper = asyncio.create_task(self._sweep())
        demo = Demo(self.service, self.settings.demo) if self.settings.demo else None
        if demo is not None:
            demo.start()
        try:
            yield
        finally:
            sweeper.cancel()
            if demo is not None:
                await demo.stop()
            if self.inspector is not None:
                self.inspector.close()
            await self.service.stop()

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.hub.max_interval_ms / 4000))
            self.hub.expire()

    # ------------------------------------------------------------ helpers

    def authenticate(self, connection: HTTPConnection) -> tuple[Session | None, bool]:
        """The request's session (None: refuse with 401) and whether it is new."""
        credentials = basic_credentials(connection.headers.get("authorization"))
        session = self.sessions.get(connection.cookies.get(_COOKIE))
        if credentials is not None:
            agent = self.settings.directory.check(*credentials)
            if agent is None:
                return None, False
            if session is None or session.agent.user_name != agent.user_name:
                return self.sessions.create(agent), True
        return session, False

    def _headers(self, session: Session, new: bool, *, get: bool) -> dict[str, str]:
        headers: dict[str, str] = {}
        if new:
            headers["set-cookie"] = f"{_COOKIE}={session.id}; Path=/; HttpOnly; SameSite=Lax"
        if get and self.settings.csrf:
            headers["X-CSRF-HEADER"] = _CSRF_HEADER
            headers[_CSRF_HEADER] = session.csrf_token
        return headers

    def _denied(self) -> Response:
        return _json(
            {"statusCode": ACCESS_DENIED, "statusMessage": "Access denied"},
            401,
            {"WWW-Authenticate": 'Basic realm="email_fsm"'},
        )

    async def _body(self, request: Request) -> bytes | None:
        """The request body, or None when it is over the limit (not read any further)."""
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.limit:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.limit:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_big(self) -> Response:
        return _refusal(int(StatusCode.INVALID_VALUE), f"request body over {self.limit} bytes", 413)

    async def _api(
        self,
        request: Request,
        handle: Callable[[Session, bytes | None], Awaitable[Response]],
        *,
        post: bool,
    ) -> Response:
        session, new = self.authenticate(request)
        if session is None:
            return self._denied()
        request.state.agent = session.agent.user_name
        if post and self.settings.csrf:
            token = request.headers.get(_CSRF_HEADER)
            if token is None or token != session.csrf_token or new:
                return Response("Missing or invalid Csrf token", 403, media_type="text/plain")
        body: bytes | None = None
        if post:
            body = await self._body(request)
            if body is None:
                return self._too_big()
        response = await handle(session, body)
        for key, value in self._headers(session, new, get=not post).items():
            response.headers[key] = value
        return response

    # ------------------------------------------------------------ /api/v2/me

    async def get_me(self, request: Request) -> Response:
        async def handle(session: Session, _: bytes | None) -> Response:
            agent = session.agent
            user = agent.me(self.settings.config.base_url)
            wanted = {s.strip() for s in request.query_params.get("subresources", "").split(",")}
            await self.service.refresh_sessions()
            channels = self.service.routable.get(agent.user_name, frozenset())
            if wanted & {"*", "channels"}:
                user["channels"] = [
                    {"channel": name, "userState": {"state": "Ready"}} for name in sorted(channels)
                ]
            if wanted & {"*", "devices"}:
                user["devices"] = []
            if wanted & {"*", "settings"}:
                user["settings"] = {}
            return _json({"statusCode": 0, "user": user})

        return await self._api(request, handle, post=False)

    async def post_me(self, request: Request) -> Response:
        async def handle(session: Session, body: bytes | None) -> Response:
            try:
                loaded = _strict_loads(body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError) as error:  # too deep
                return _refusal(int(StatusCode.INVALID_VALUE), f"request body is not JSON: {error}")
            if not isinstance(loaded, dict):
                return _refusal(int(StatusCode.INVALID_VALUE), "request body must be a JSON object")
            name = loaded.get("operationName")
            request.state.operation = name
            agent = session.agent.user_name
            if name == "StartContactCenterSession":
                channels = loaded.get("channels", [])
                if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
                    return _refusal(
                        int(StatusCode.INVALID_VALUE), "channels must be an array of channel names"
                    )
                await self.service.open_session(agent, channels)
                return _json({"statusCode": 0})
            if name == "EndContactCenterSession":
                await self.service.close_session(agent)
                return _json({"statusCode": 0})
            if name is None:
                return _refusal(int(StatusCode.MISSING_PARAMETER), "operationName is required")
            return _refusal(
                int(StatusCode.INVALID_VALUE),
                f"unknown operationName {str(name)[:40]!r} for /api/v2/me: "
                "StartContactCenterSession or EndContactCenterSession",
            )

        return await self._api(request, handle, post=True)

    # ------------------------------------------------------------ /api/v2/me/emails

    def _held(self, agent: str) -> list[Any]:
        return sorted(
            (e for e in self.service.store.held_by(agent) if e.phase in HOLDER_VIEWS),
            key=lambda e: e.id,
        )

    async def list_emails(self, request: Request) -> Response:
        async def handle(session: Session, _: bytes | None) -> Response:
            agent = session.agent.user_name
            config = self.settings.config
            await self.service.sync()
            held = [e for e in self._held(agent) if view(e, agent, config=config) is not None]
            if request.query_params.get("fields"):
                return _json(
                    {"statusCode": 0, "emails": [view(e, agent, config=config) for e in held]}
                )
            return _json({"statusCode": 0, "uris": [config.email_uri(e.id) for e in held]})

        return await self._api(request, handle, post=False)

    async def get_email(self, request: Request) -> Response:
        email_id = request.path_params["id"]

        async def handle(session: Session, _: bytes | None) -> Response:
            await self.service.sync()
            email = self.service.store.emails.get(email_id)
            seen = (
                view(email, session.agent.user_name, config=self.settings.config)
                if email is not None
                else None
            )
            if seen is None:
                return _refusal(int(StatusCode.NOT_FOUND), f"email {email_id} not found")
            return _json({"statusCode": 0, "email": seen})

        return await self._api(request, handle, post=False)

    async def post_email(self, request: Request) -> Response:
        email_id: str | None = request.path_params.get("id")

        async def handle(session: Session, body: bytes | None) -> Response:
            agent = session.agent.user_name
            if self.service.failed is not None:
                return _json(SERVER_UNAVAILABLE, 503)
            try:
                answer = await self.service.agent_request(agent, body or b"", email_id)
            except LogClosedError:
                return _json(SERVER_UNAVAILABLE, 503)
            request.state.answer = answer
            return _json(answer)

        return await self._api(request, handle, post=True)

    # ------------------------------------------------------------ CometD

    async def cometd(self, request: Request) -> Response:
        session, new = self.authenticate(request)
        if session is None:
            return self._denied()
        request.state.agent = session.agent.user_name
        body = await self._body(request)
        if body is None:
            return _json(
                [{"successful": False, "error": f"413::body over {self.limit} bytes"}], 413
            )
        try:
            messages = Hub.messages_of(json.loads(body))
        except (ValueError, UnicodeDecodeError, RecursionError) as error:  # BayeuxError: ValueError
            text = str(error) if isinstance(error, BayeuxError) else f"not JSON: {error}"
            return _json([{"successful": False, "error": f"400::{text}"}], 400)
        reply = await self.hub.handle(messages, session.agent.user_name, "long-polling")
        response = Response(_render(reply), media_type="application/json")
        if new:
            for key, value in self._headers(session, new, get=False).items():
                response.headers[key] = value
        return response

    async def cometd_websocket(self, websocket: WebSocket) -> None:
        session, _ = self.authenticate(websocket)
        if session is None:
            await websocket.close(code=1008)
            return
        await websocket.accept()
        agent = session.agent.user_name
        tasks: set[asyncio.Task[None]] = set()

        async def answer(messages: list[dict[str, Any]]) -> None:
            reply = await self.hub.handle(messages, agent, "websocket")
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                await websocket.send_text(_render(reply))

        try:
            while True:
                frame = await websocket.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                # Bayeux frames are text; a binary frame is read as UTF-8 (not a KeyError)
                text = frame.get("text") or bytes(frame.get("bytes") or b"").decode(
                    "utf-8", "replace"
                )
                try:
                    messages = Hub.messages_of(json.loads(text))
                except (ValueError, RecursionError) as error:  # RecursionError: nested too deep
                    await websocket.send_text(
                        json.dumps([{"successful": False, "error": f"400::{error}"}])
                    )
                    continue
                task = asyncio.create_task(answer(messages))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            for task in tasks:
                task.cancel()

    # ------------------------------------------------------------ /sim

    async def sim_event(self, request: Request) -> Response:
        from ..requests import parse_system_event

        body = await self._body(request)
        if body is None:
            return self._too_big()
        try:
            loaded: Any = _strict_loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            loaded = body  # parse_system_event refuses it with the reason
        chosen = isinstance(loaded, dict) and loaded.get("event") == "Arrive"
        chosen = chosen and "emailId" not in loaded
        if chosen:
            loaded = {**loaded, "emailId": self.service.new_id("E")}
        command = parse_system_event(loaded, config=self.settings.config)
        if isinstance(command, Refused):
            return _json(command.response())
        if self.service.failed is not None:
            return _json(SERVER_UNAVAILABLE, 503)
        try:
            decision = await self.service.system(command)
            while (
                chosen
                and isinstance(decision, Refused)
                and decision.code is StatusCode.ALREADY_EXISTS
            ):
                # An Arrive naming the id the server chose took it meanwhile: choose again.
                command = msgspec.structs.replace(command, email_id=self.service.new_id("E"))
                decision = await self.service.system(command)
        except LogClosedError:
            return _json(SERVER_UNAVAILABLE, 503)
        if isinstance(decision, Refused):
            return _json(decision.response())
        answer: dict[str, Any] = {"statusCode": 0, "emailId": command.email_id}
        if isinstance(command, Arrive):
            answer["uri"] = self.settings.config.email_uri(command.email_id)
        return _json(answer)

    async def sim_emails(self, request: Request) -> Response:
        try:
            await self.service.sync()
            await self.service.refresh_sessions()
        except LogClosedError:
            return _json(SERVER_UNAVAILABLE, 503)
        emails = [json.loads(email_to_json(e)) for e in self.service.store.emails.values()]
        return _json(
            {
                "statusCode": 0,
                "emails": emails,
                "routable": {a: sorted(c) for a, c in self.service.routable.items()},
            }
        )

    async def sim_status(self, request: Request) -> Response:
        """This process: its id, whether it routes now, what it has done."""
        service = self.service
        return _json(
            {
                "statusCode": 0,
                "pid": os.getpid(),
                "router": service.routes_here and service.routing.enabled,
                "emails": len(service.store.emails),
                "conflicts": service.conflicts,
                "caughtUp": service.caught_up,
            }
        )


def _render(reply: Reply) -> str:
    parts = list(reply.texts)
    parts.extend(json.dumps(message, ensure_ascii=False) for message in reply.messages)
    return "[" + ",".join(parts) + "]"


class _AccessLog:
    """One log line per request: agent, method, path, HTTP status, GWS statusCode, time."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            state = scope.get("state", {})
            answer = state.get("answer") or {}
            extra = f" statusCode {answer['statusCode']}" if "statusCode" in answer else ""
            if "referenceId" in answer:
                extra += f" referenceId {answer['referenceId']}"
            log.info(
                "%s %s %s -> %d%s (%.1f ms)",
                state.get("agent", "-"),
                scope["method"],
                scope["path"],
                status,
                extra,
                (time.perf_counter() - started) * 1000,
            )


async def _desktop(request: Request) -> Response:
    """The agent desktop page (``static/desktop.html``)."""
    return page("desktop.html")


def create_app(settings: ServerSettings | None = None) -> Starlette:
    """The ASGI application of a GWS-compatible server (see the module's documentation).

    ``app.state.service`` is its :class:`~email_fsm.server.ContactCenterService` and
    ``app.state.hub`` its CometD :class:`~email_fsm.server.bayeux.Hub`. Run it with any
    ASGI server; its lifespan replays the log on start and closes it on shutdown.
    """
    server = _Server(settings or ServerSettings())
    notifications = "/api/v2/notifications"
    routes: list[BaseRoute] = [
        Route("/api/v2/me", server.get_me, methods=["GET"]),
        Route("/api/v2/me", server.post_me, methods=["POST"]),
        Route("/api/v2/me/emails", server.list_emails, methods=["GET"]),
        Route("/api/v2/me/emails", server.post_email, methods=["POST"]),
        Route("/api/v2/me/emails/{id}", server.get_email, methods=["GET"]),
        Route("/api/v2/me/emails/{id}", server.post_email, methods=["POST"]),
        Route(notifications, server.cometd, methods=["POST"]),
        # CometD's JavaScript client posts subscribe, publish and disconnect messages to
        # the URL with a "/" appended (handshake and connect get "/handshake", "/connect").
        Route(notifications + "/", server.cometd, methods=["POST"]),
        Route(notifications + "/{fn}", server.cometd, methods=["POST"]),
        WebSocketRoute(notifications, server.cometd_websocket),
    ]
    if server.settings.sim_api:
        routes += [
            Route("/sim/events", server.sim_event, methods=["POST"]),
            Route("/sim/emails", server.sim_emails, methods=["GET"]),
            Route("/sim/status", server.sim_status, methods=["GET"]),
        ]
    routes += [
        Route("/desktop", _desktop, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    if server.inspector is not None:
        routes += inspector_routes(server.inspector)
    app = Starlette(routes=routes, lifespan=server.lifespan)
    app.state.service = server.service
    app.state.inspector = server.inspector
    app.state.hub = server.hub
    app.state.server = server
    app.add_middleware(_AccessLog)
    return app
