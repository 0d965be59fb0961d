"""The live inspector: what the server decided, for a page that draws it (``/inspector``).

:class:`Inspector` is one of :attr:`ContactCenterService.observers
<email_fsm.server.service.ContactCenterService.observers>`: every decided request, an
agent's or a system event, accepted or refused, becomes one *entry* (a JSON object):

``seq``, ``time``, ``agent`` (None for a system event), ``operation`` (``Accept``,
``Arrive``, ...), ``emailId``, ``accepted``, ``answer`` (the GWS answer: ``statusCode``
and ``statusMessage`` or ``referenceId``), ``events`` (the event types stored), ``emails``
(each email the decision changed, as :func:`summary` gives it: its phase after the
decision) and ``notifications`` (each sent: ``agent``, ``type``, ``emailId``, ``state``,
``capabilities``).

The routes (:func:`routes`):

- ``GET /inspector``: the page (``static/inspector.html``);
- ``GET /inspector/state``: the picture now: the phases, the live emails (and the
  finished ones still in the history), each agent's last notifications, the last
  entries, and ``seq``, the number of the last entry included;
- ``GET /inspector/emails/{id}``: one email's summary and history (its entries,
  refusals included);
- ``GET /inspector/feed``: the entries as they happen, as Server-Sent Events (one
  ``data:`` line of JSON each).

Memory is bounded: the last :attr:`Inspector.backlog` entries, the histories of the last
:attr:`Inspector.email_limit` emails (:attr:`Inspector.history` entries each), the last
:attr:`Inspector.notification_limit` notifications of the last :attr:`Inspector.agent_limit`
agents, and a feed whose reader falls :attr:`Inspector.feed_queue` entries behind is
closed (the page reconnects and reloads the state).

**Who may open it.** The inspector shows every agent's emails and notifications without
asking who is looking, as ``/sim`` does; so it answers only requests from the loopback
address (the server listens there by default) and ``403`` to any other, and
``email-fsm serve --no-inspector`` turns it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..decisions import Accepted
from ..email import Email
from ..vocabulary import TERMINAL_PHASES, Phase
from .service import ContactCenterService, Observation

__all__ = ["STATIC", "Entry", "Inspector", "is_loopback", "routes", "summary"]

STATIC: Final = Path(__file__).resolve().parent / "static"
"""The pages and scripts the server serves (``/desktop``, ``/inspector``, ``/static``)."""

Entry = dict[str, Any]
"""One decided request, as the inspector shows it (see the module's documentation)."""

_HEARTBEAT_SECONDS: Final = 15.0
"""A feed with nothing to say sends an SSE comment this often (proxies, dead readers)."""


def summary(email: Email) -> dict[str, Any]:
    """What the inspector shows of an email: id, phase, direction, queue, owner, invitee,
    subject, from, parent, transfers."""
    return {
        "id": email.id,
        "phase": str(email.phase),
        "direction": str(email.direction),
        "queue": email.queue,
        "owner": email.owner,
        "invitee": email.invitee,
        "subject": email.content.subject,
        "from": email.content.from_,
        "parentId": email.content.parent_id,
        "transfers": email.transfers,
    }


def _operation(request: object) -> str:
    """The operation of a request: an agent's ``operationName``, a command's type."""
    if isinstance(request, bytes | str):
        try:
            loaded = json.loads(request)
        except (ValueError, RecursionError):
            return "(not JSON)"
        name = loaded.get("operationName") if isinstance(loaded, dict) else None
        return str(name)[:40] if name is not None else "(no operationName)"
    if isinstance(request, dict):
        return str(request.get("operationName", "(no operationName)"))[:40]
    return type(request).__name__


def is_loopback(request: Request) -> bool:
    """Whether the request comes from this machine (127.0.0.0/8 or ::1)."""
    host = request.client.host if request.client is not None else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


class Inspector:
    """The entries of one service's decisions, in bounded memory, and their live feed."""

    def __init__(
        self,
        service: ContactCenterService,
        *,
        backlog: int = 500,
        email_limit: int = 500,
        history: int = 100,
        agent_limit: int = 200,
        notification_limit: int = 100,
        feed_queue: int = 1_000,
    ) -> None:
        self.service = service
        self.backlog = backlog
        """How many entries :meth:`state` keeps (the newest)."""
        self.email_limit = email_limit
        """How many emails' histories are kept (the most recently changed)."""
        self.history = history
        """How many entries each email's history keeps."""
        self.agent_limit = agent_limit
        """How many agents' notification logs are kept."""
        self.notification_limit = notification_limit
        """How many notifications each agent's log keeps."""
        self.feed_queue = feed_queue
        """How many entries a feed's reader may fall behind before its feed is closed."""
        self.seq = 0
        """The number of the last entry."""
        self._numbers = itertools.count(1)
        self.entries: deque[Entry] = deque(maxlen=backlog)
        self.histories: OrderedDict[str, deque[Entry]] = OrderedDict()
        self.notifications: OrderedDict[str, deque[dict[str, Any]]] = OrderedDict()
        self._feeds: set[asyncio.Queue[Entry | None]] = set()
        self.closed = False
        service.observers.append(self.observe)

    # ------------------------------------------------------------------ entries

    def entry(self, observation: Observation) -> Entry:
        """The entry of one observation (numbered: call once per observation)."""
        decision = observation.decision
        self.seq = next(self._numbers)
        entry: Entry = {
            "seq": self.seq,
            "time": observation.time,
            "agent": observation.agent,
            "operation": _operation(observation.request),
            "emailId": observation.email_id,
            "accepted": isinstance(decision, Accepted),
            "answer": observation.answer,
            "events": [],
            "emails": [],
            "notifications": [],
        }
        if isinstance(decision, Accepted):
            entry["events"] = [type(event).__name__ for event in decision.events]
            entry["emails"] = [summary(email) for email in decision.emails]
            entry["notifications"] = [
                {
                    "agent": n.recipient,
                    "type": str(n.type),
                    "emailId": n.email.id,
                    "state": str(n.state),
                    "capabilities": [str(c) for c in n.capabilities],
                    "referenceId": n.reference_id,
                }
                for n in decision.notifications
            ]
        return entry

    def observe(self, observation: Observation) -> None:
        """Record one observation and send its entry to every feed."""
        if self.closed:
            return
        entry = self.entry(observation)
        self.entries.append(entry)
        ids = {email["id"] for email in entry["emails"]}
        if observation.email_id is not None:
            ids.add(observation.email_id)
        for email_id in sorted(ids):
            self._remember(self.histories, email_id, self.history, self.email_limit).append(entry)
        for notification in entry["notifications"]:
            log = self._remember(
                self.notifications,
                notification["agent"],
                self.notification_limit,
                self.agent_limit,
            )
            log.append({"seq": entry["seq"], "time": entry["time"], **notification})
        for feed in tuple(self._feeds):
            try:
                feed.put_nowait(entry)
            except asyncio.QueueFull:
                self._feeds.discard(feed)  # too far behind: its reader reconnects
                with contextlib.suppress(asyncio.QueueEmpty):
                    feed.get_nowait()
                feed.put_nowait(None)

    @staticmethod
    def _remember(
        logs: OrderedDict[str, deque[Any]], key: str, length: int, keys: int
    ) -> deque[Any]:
        """The log of ``key``, made the most recent; the least recent dropped past ``keys``."""
        log = logs.get(key)
        if log is None:
            log = logs[key] = deque(maxlen=length)
            while len(logs) > keys:
                logs.popitem(last=False)
        else:
            logs.move_to_end(key)
        return log

    # ------------------------------------------------------------------ pictures

    def emails(self) -> list[dict[str, Any]]:
        """The emails to draw: every live one, and the finished ones with a history."""
        shown = []
        for email in self.service.store.emails.values():
            if email.phase not in TERMINAL_PHASES or email.id in self.histories:
                shown.append(summary(email))
        return shown

    def state(self) -> dict[str, Any]:
        """The picture now (``GET /inspector/state``)."""
        return {
            "seq": self.seq,
            "phases": [str(phase) for phase in Phase],
            "terminal": sorted(str(phase) for phase in TERMINAL_PHASES),
            "emails": self.emails(),
            "agents": {agent: list(log) for agent, log in self.notifications.items()},
            "routable": {a: sorted(c) for a, c in self.service.routable.items()},
            "entries": list(self.entries),
        }

    def email_history(self, email_id: str) -> dict[str, Any] | None:
        """One email's summary and its entries, or None for an email never seen."""
        email = self.service.store.emails.get(email_id)
        history = self.histories.get(email_id)
        if email is None and history is None:
            return None
        return {
            "email": summary(email) if email is not None else None,
            "history": list(history or ()),
        }

    # ------------------------------------------------------------------ the feed

    def subscribe(self) -> asyncio.Queue[Entry | None]:
        """A queue of the entries from now on; None in it means the feed is over."""
        feed: asyncio.Queue[Entry | None] = asyncio.Queue(self.feed_queue)
        if self.closed:
            feed.put_nowait(None)
        else:
            self._feeds.add(feed)
        return feed

    def unsubscribe(self, feed: asyncio.Queue[Entry | None]) -> None:
        """Stop sending entries to ``feed``."""
        self._feeds.discard(feed)

    @property
    def feeds(self) -> int:
        """How many feeds are open."""
        return len(self._feeds)

    def close(self) -> None:
        """End every feed now (the server is stopping)."""
        self.closed = True
        for feed in tuple(self._feeds):
            with contextlib.suppress(asyncio.QueueFull):
                feed.put_nowait(None)
        self._feeds.clear()

    async def events(self, request: Request) -> AsyncIterator[str]:
        """The feed as Server-Sent Events text, until the reader goes or the server stops."""
        feed = self.subscribe()
        try:
            yield f"retry: 1000\n: seq {self.seq}\n\n"
            while True:
                try:
                    entry = await asyncio.wait_for(feed.get(), _HEARTBEAT_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    yield ": heartbeat\n\n"
                    continue
                if entry is None:
                    return
                yield f"id: {entry['seq']}\ndata: {json.dumps(entry, ensure_ascii=False)}\n\n"
        finally:
            self.unsubscribe(feed)


_FORBIDDEN: Final = "the inspector answers only requests from this machine (loopback)"


def _json(body: object, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status, media_type="application/json")


def page(name: str) -> FileResponse:
    """A page of :data:`STATIC`, never cached (the server may be upgraded under it)."""
    return FileResponse(
        STATIC / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


def routes(inspector: Inspector) -> list[BaseRoute]:
    """The inspector's routes (see the module's documentation)."""

    def local(request: Request) -> Response | None:
        return None if is_loopback(request) else Response(_FORBIDDEN, 403, media_type="text/plain")

    async def show(request: Request) -> Response:
        return local(request) or page("inspector.html")

    async def state(request: Request) -> Response:
        return local(request) or _json(inspector.state())

    async def history(request: Request) -> Response:
        refused = local(request)
        if refused is not None:
            return refused
        found = inspector.email_history(request.path_params["id"])
        if found is None:
            return _json({"statusCode": 6, "statusMessage": "no such email"}, 404)
        return _json(found)

    async def feed(request: Request) -> Response:
        refused = local(request)
        if refused is not None:
            return refused
        return StreamingResponse(
            inspector.events(request),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return [
        Route("/inspector", show, methods=["GET"]),
        Route("/inspector/state", state, methods=["GET"]),
        Route("/inspector/emails/{id}", history, methods=["GET"]),
        Route("/inspector/feed", feed, methods=["GET"]),
    ]
