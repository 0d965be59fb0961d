"""The server's contact center: decide, append to the log, deliver, route.

:class:`ContactCenterService` is the one place the server's state changes. Every
request, whether from an agent's desktop, the contact-center API or the router, takes the
same path:

1. decide it on the emails as the log has them (:func:`~email_fsm.requests.handle_request`
   or :func:`~email_fsm.decide`);
2. append the decision's events to the log: they are stored only if no other decision
   took the same version of the same email meanwhile; if one did, go back to 1 with the
   fresh email (optimistic concurrency);
3. store the emails in the :class:`~email_fsm.EmailStore`, queue the notifications on
   the agents' CometD sessions, answer ``{"statusCode": 0, "referenceId": n}``.

So every answered request is in the log, and a restart (:meth:`start` replays the log)
loses none. The router and the invitation timeouts run here too: the server owns the
clock; the model never reads one.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..codec import CodecError
from ..commands import Command, Offer, Revoke
from ..config import DEFAULT_CONFIG, Config
from ..decider import decide, evolve
from ..decisions import Accepted, Decision, Refused
from ..email import Email
from ..policies import Policy
from ..store import EmailStore
from ..vocabulary import CHANNEL, Phase, StatusCode
from .bayeux import Hub
from .eventlog import EventLog, LogClosedError, MemoryLog, Row, SharedLog, rows_of

__all__ = [
    "ContactCenterService",
    "Observation",
    "OldestFirstRouter",
    "Router",
    "RoutingSettings",
]

log = logging.getLogger("email_fsm.server")

Answer = dict[str, Any]

_MAX_ATTEMPTS = 100
_ID_STRIDE = 100
"""On a shared log, process ``k`` numbers new emails ``n * 100 + k`` (``k`` below 100):
two processes choose different ids, not the same one again and again."""
"""Deciding again after a conflict: more than this many conflicts in a row is a bug."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingSettings:
    """What the built-in router may do."""

    capacity: int = 1
    """An agent is offered an email only while holding fewer than this many."""
    offer_timeout: float | None = 30.0
    """Seconds an invitation may wait for Accept or Reject before it is revoked (None:
    forever)."""
    enabled: bool = True
    """Off, emails are offered only through the contact-center API."""


class Router(Protocol):
    """Chooses the offers to make now: ``(email id, agent)`` pairs.

    ``queued`` are the Queued emails, oldest first; ``ready`` maps each agent who may take
    an email now to the number of emails they hold. Called after every change.
    """

    def __call__(
        self, queued: Sequence[Email], ready: Mapping[str, int], /
    ) -> Sequence[tuple[str, str]]: ...


@dataclass(slots=True)
class OldestFirstRouter:
    """The oldest Queued email first, to the ready agent holding the fewest (the one who
    waited longest among them), never to an agent who rejected that email."""

    capacity: int = 1
    _last: dict[str, int] = field(default_factory=dict)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def __call__(
        self, queued: Sequence[Email], ready: Mapping[str, int], /
    ) -> Sequence[tuple[str, str]]:
        load = {agent: held for agent, held in ready.items() if held < self.capacity}
        offers: list[tuple[str, str]] = []
        for email in queued:
            if not load:
                break
            candidates = [a for a in load if a not in email.rejected_by]
            if not candidates:
                continue
            agent = min(candidates, key=lambda a: (load[a], self._last.get(a, -1), a))
            offers.append((email.id, agent))
            self._last[agent] = next(self._turn)
            load[agent] += 1
            if load[agent] >= self.capacity:
                del load[agent]
        return offers


@dataclass(frozen=True, slots=True)
class Observation:
    """One request the service decided, for its :attr:`ContactCenterService.observers`
    (the inspector): called after each stored decision and each refusal."""

    time: float
    """When it was decided (seconds since the epoch)."""
    agent: str | None
    """The agent who asked; None for a system event (Arrive, Offer, Revoke)."""
    request: object
    """The agent's request body (bytes, as posted) or the system event's command."""
    email_id: str | None
    """The email of the request's URL (``/api/v2/me/emails/{id}``), or the command's."""
    decision: Decision
    """What the model decided: the events and notifications, or the refusal."""
    answer: Answer
    """The GWS answer (``statusCode``, ``statusMessage`` or ``referenceId``)."""


class ContactCenterService:
    """The emails, their log, the agents' CometD sessions and the router, in one asyncio
    loop (see the module's documentation)."""

    def __init__(
        self,
        *,
        log: EventLog | None = None,
        config: Config = DEFAULT_CONFIG,
        policies: Sequence[Policy] = (),
        hub: Hub | None = None,
        routing: RoutingSettings = RoutingSettings(),
        router: Router | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log: EventLog = log if log is not None else MemoryLog()
        self.config = config
        self.policies = tuple(policies)
        self.hub = hub if hub is not None else Hub()
        self.routing = routing
        self.router: Router = router or OldestFirstRouter(capacity=routing.capacity)
        self.clock = clock
        self.store = EmailStore(config=config, policies=self.policies)
        self.routable: dict[str, frozenset[str]] = {}
        """Agents in a contact-center session, and its channels."""
        self._references = itertools.count(1)
        self._ids = itertools.count(1)
        self._route_pending = False
        self._route_again = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._failed: BaseException | None = None
        self.replayed = 0
        """How many events :meth:`start` replayed."""
        self.conflicts = 0
        """How many decisions were decided again after a conflict."""
        self.observers: list[Callable[[Observation], None]] = []
        """Called with every decided request (:class:`Observation`); one that raises is
        logged and does not change the answer."""
        self._shared: SharedLog | None = self.log if isinstance(self.log, SharedLog) else None
        self._synced = 0
        self._sync_asked = 0
        self._sync_task: asyncio.Future[None] | None = None
        self._wake_pending = False
        self.caught_up = 0
        """How many events of other processes this one applied (a shared log)."""

    # ------------------------------------------------------------------ life

    def start(self) -> None:
        """Take the log (its ``acquire()``, where it has one: a file is served by one
        process) and replay it (call once, before serving)."""
        acquire = getattr(self.log, "acquire", None)
        if callable(acquire):
            acquire()
        events = self.log.load()
        self.store = EmailStore.from_events(events, config=self.config, policies=self.policies)
        self.replayed = len(events)
        numbers = [
            int(email_id[1:])
            for email_id in self.store.emails
            if email_id[:1] in "ED" and email_id[1:].isdigit()
        ]
        self._ids = itertools.count(max(numbers, default=0) + 1)
        if self._shared is not None:
            # The router's process arms the timeouts once it takes the role.
            self._ids = itertools.count(max(numbers, default=0) // _ID_STRIDE + 1)
            self._shared.start_background(wake=self._on_wake, router=self._on_router)
            return
        # Invitations open when the server stopped get a fresh timeout.
        for email in self.store.in_phase(Phase.INVITED):
            self._arm_timeout(email)

    async def stop(self) -> None:
        """Answer the held connects, cancel the timers and background work, close the log."""
        self.hub.close()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._shared is not None:
            await self._shared.aclose()
            return
        self.log.close()

    def new_id(self, prefix: str = "E") -> str:
        """A fresh email id: ``E``/``D`` and a number no email of the store has."""
        slot = self._shared.process_slot % _ID_STRIDE if self._shared is not None else None
        while True:
            number = next(self._ids)
            if slot is not None:
                number = number * _ID_STRIDE + slot
            candidate = f"{prefix}{number}"
            if candidate not in self.store.emails:
                return candidate

    @property
    def failed(self) -> BaseException | None:
        """The log's failure, after which every change is answered 503."""
        return self._failed

    # ------------------------------------------------------------------ changes

    async def agent_request(self, agent: str, body: object, email_id: str | None = None) -> Answer:
        """An agent's GWS request (``POST /api/v2/me/emails[/{id}]``) and its answer."""
        from ..requests import handle_request

        if self._shared is not None:
            await self.sync()
            reference = await self._shared.next_reference()
        else:
            reference = next(self._references)

        def decide_now() -> Decision:
            return handle_request(
                self.store.emails,
                body,
                actor=agent,
                email_id=email_id,
                new_id=lambda: self.new_id("D"),
                reference_id=reference,
                config=self.config,
                policies=self.policies,
            )

        decision = await self._settle(decide_now, email_id)
        if isinstance(decision, Accepted):
            if decision.ignored:
                log.info("%s: parameters ignored: %s", agent, ", ".join(decision.ignored))
            answer: Answer = {"statusCode": 0, "referenceId": reference}
        else:
            answer = decision.response()
        self._observe(agent, body, email_id, decision, answer)
        return answer

    async def system(self, command: Command) -> Decision:
        """A system event (Arrive, Offer, Revoke), decided and stored as any request."""
        await self.sync()
        decision = await self._settle(
            lambda: decide(self.store.emails, command, config=self.config, policies=self.policies),
            getattr(command, "email_id", None),
        )
        answer = {"statusCode": 0} if isinstance(decision, Accepted) else decision.response()
        self._observe(None, command, getattr(command, "email_id", None), decision, answer)
        return decision

    def _observe(
        self,
        agent: str | None,
        request: object,
        email_id: str | None,
        decision: Decision,
        answer: Answer,
    ) -> None:
        if not self.observers:
            return
        observation = Observation(time.time(), agent, request, email_id, decision, answer)
        for observer in tuple(self.observers):
            try:
                observer(observation)
            except Exception:
                log.exception("an observer failed on %s", observation.answer)

    async def _settle(
        self, decide_now: Callable[[], Decision], email_id: str | None = None
    ) -> Decision:
        """Decide, append, store and deliver; decide again after a conflict."""
        for _ in range(_MAX_ATTEMPTS):
            if self._failed is not None:
                raise LogClosedError("the event log failed") from self._failed
            decision = decide_now()
            if not isinstance(decision, Accepted):
                if self._shared is not None and email_id is not None:
                    # A catch-up stops below the oldest transaction still running, so
                    # an email may have changed since: a refusal must be of its latest.
                    held = self._version(email_id)
                    newer = await self._shared.rows_since(email_id, held)
                    if newer:
                        await self._apply(newer)
                        if self._version(email_id) > held:
                            continue
                return decision
            try:
                rows = rows_of(decision)
            except CodecError as error:  # text with no UTF-8 form: a lone surrogate
                return Refused(StatusCode.INVALID_VALUE, f"the request cannot be stored: {error}")
            shared = self._shared
            try:
                if shared is not None:
                    outgoing = [(n.recipient, CHANNEL, n.to_json()) for n in decision.notifications]
                    stored = await shared.append_delivering(rows, outgoing)
                else:
                    stored = await self.log.append(rows)
            except LogClosedError as error:
                self._failed = error
                raise
            if not stored:
                self.conflicts += 1
                if shared is not None:  # another process wrote first: read what it wrote
                    for written in {row.email_id for row in rows}:
                        held = self._version(written)
                        await self._apply(await shared.rows_since(written, held))
                continue
            if shared is not None:
                self._commit_newer(decision)
                self._after(decision)
                return decision
            # Stored is final: the log is the truth. A decision that read an email it did
            # not write (a Reply reads the original, writes the draft) stands even if that
            # email changed meanwhile: it is ordered before that change. (Deciding it
            # again here would refuse a request whose events are in the log.)
            self.store.commit(decision)
            self._deliver(decision)
            self._after(decision)
            return decision
        raise RuntimeError(f"{_MAX_ATTEMPTS} conflicts in a row")  # pragma: no cover

    def _deliver(self, decision: Accepted) -> None:
        publish = self.hub.publish
        for notification in decision.notifications:
            publish(notification.recipient, CHANNEL, notification.to_json())

    def _after(self, decision: Accepted) -> None:
        self._retime(decision.emails)
        self.route_soon()

    def _retime(self, emails: Sequence[Email]) -> None:
        routes_here = self.routes_here
        for email in emails:
            timer = self._timers.pop(email.id, None)
            if timer is not None:
                timer.cancel()
            if email.phase is Phase.INVITED and routes_here:
                self._arm_timeout(email)

    # ------------------------------------------------------------------ several processes

    @property
    def routes_here(self) -> bool:
        """Whether this process routes and times invitations out: always on its own log;
        on a shared log, only while it holds the router's lock."""
        return self._shared is None or self._shared.is_router

    async def sync(self) -> None:
        """Catch up with the events other processes stored (a shared log; nothing to do
        otherwise): once this returns, every event committed before the call is applied.
        Calls made while a catch-up is under way share the next one."""
        if self._shared is None:
            return
        self._sync_asked += 1
        ticket = self._sync_asked
        while self._synced < ticket:
            task = self._sync_task
            if task is None:
                task = self._sync_task = asyncio.ensure_future(self._sync_once())
            await asyncio.shield(task)

    async def _sync_once(self) -> None:
        assert self._shared is not None
        try:
            upto = self._sync_asked
            await self._apply(await self._shared.catch_up())
            self._synced = upto
        finally:
            self._sync_task = None

    async def refresh_sessions(self, *, if_changed: bool = False) -> None:
        """Read the contact-center sessions every process shares (a shared log);
        ``if_changed``: only if one may have changed since the last read."""
        shared = self._shared
        if shared is None or (if_changed and not shared.sessions_changed):
            return
        shared.sessions_changed = False
        self.routable = await shared.sessions()

    def _version(self, email_id: str) -> int:
        email = self.store.emails.get(email_id)
        return 0 if email is None else email.version

    async def _apply(self, rows: Sequence[Row]) -> None:
        """Apply the rows whose version is the next of their email (older ones are held
        already: this process's own, or read after a conflict)."""
        from ..codec import event_from_json

        changed: dict[str, Email] = {}
        for row in rows:
            held = self._version(row.email_id)
            if row.version <= held:
                continue
            batch: Sequence[Row] = (row,)
            if row.version > held + 1 and self._shared is not None:
                batch = await self._shared.rows_since(row.email_id, held)
            for one in batch:
                current = self.store.emails.get(one.email_id)
                if one.version != (0 if current is None else current.version) + 1:
                    continue
                event = event_from_json(one.event)
                email = evolve(current, event)
                self.store.commit(Accepted(events=(event,), emails=(email,), notifications=()))
                changed[email.id] = email
                self.caught_up += 1
        if changed:
            self._retime(tuple(changed.values()))
            self.route_soon()

    def _commit_newer(self, decision: Accepted) -> None:
        """Store the decision's emails, but not over a newer version a catch-up applied
        meanwhile (another process's decision on top of this one)."""
        newer = tuple(e for e in decision.emails if e.version > self._version(e.id))
        if len(newer) == len(decision.emails):
            self.store.commit(decision)
        elif newer:
            self.store.commit(Accepted(events=(), emails=newer, notifications=()))

    def _on_wake(self) -> None:
        """A wake-up of the shared log: the router's process catches up and routes."""
        if not self.routes_here or self._wake_pending or self._failed is not None:
            return
        self._wake_pending = True
        self._spawn(self._woken())

    async def _woken(self) -> None:
        try:
            await asyncio.sleep(0)
            self._wake_pending = False
            if not self.routing.enabled:
                await self.sync()  # no routing pass to catch up: the timers follow it
            self.route_soon()  # a routing pass catches up first
        except LogClosedError:
            return

    def _on_router(self, routes: bool) -> None:
        if routes:
            log.info("this process is the router now")
            self._spawn(self._take_over())
            return
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()

    async def _take_over(self) -> None:
        try:
            await self.sync()
            await self.refresh_sessions()
        except LogClosedError:
            return
        # Invitations open when the last router stopped get a fresh timeout.
        self._retime(self.store.in_phase(Phase.INVITED))
        self.route_soon()

    # ------------------------------------------------------------------ sessions

    async def open_session(self, agent: str, channels: Sequence[str]) -> None:
        """StartContactCenterSession, stored for every process on a shared log."""
        if self._shared is not None:
            await self._shared.save_session(agent, channels)
        self.start_session(agent, channels)

    async def close_session(self, agent: str) -> None:
        """EndContactCenterSession, stored for every process on a shared log."""
        if self._shared is not None:
            await self._shared.save_session(agent, None)
        self.end_session(agent)

    def start_session(self, agent: str, channels: Sequence[str]) -> None:
        """StartContactCenterSession: the agent is routable on ``channels``."""
        self.routable[agent] = frozenset(channels)
        self.route_soon()

    def end_session(self, agent: str) -> None:
        """EndContactCenterSession: no more offers to the agent."""
        self.routable.pop(agent, None)

    # ------------------------------------------------------------------ routing

    def ready_agents(self) -> dict[str, int]:
        """The agents who may be offered an email, and how many they hold."""
        return {
            agent: len(self.store.held_by(agent))
            for agent, channels in self.routable.items()
            if "email" in channels
        }

    def route_soon(self) -> None:
        """Run the router once the current step is done (calls coalesce). One pass at a
        time: a call during a pass runs another after it (two passes at once would
        compute their offers from the same emails and could invite an agent past its
        capacity)."""
        if not self.routing.enabled or self._failed is not None or not self.routes_here:
            return
        if self._route_pending:
            self._route_again = True
            return
        self._route_pending = True
        self._spawn(self._route())

    async def _route(self) -> None:
        try:
            again = True
            while again and self._failed is None:
                await asyncio.sleep(0)
                self._route_again = False
                await self._route_once()
                again = self._route_again
        finally:
            self._route_pending = False

    async def _route_once(self) -> None:
        if self._shared is not None:
            try:
                await self.sync()
                await self.refresh_sessions(if_changed=True)
            except LogClosedError:
                return
        queued = self.store.in_phase(Phase.QUEUED)
        if not queued:
            return
        ready = self.ready_agents()
        if not ready:
            return
        planned: dict[str, int] = {}
        for email_id, agent in self.router(queued, ready):
            if "email" not in self.routable.get(agent, ()):
                continue  # the session ended while this pass waited for the log
            planned[agent] = planned.get(agent, 0) + 1
            if len(self.store.held_by(agent)) >= ready.get(agent, 0) + planned[agent]:
                continue  # given an email meanwhile (a transfer): the router's count is stale
            try:
                decision = await self.system(Offer(email_id=email_id, agent=agent))
            except LogClosedError:
                return
            if isinstance(decision, Refused):
                log.debug("router: offer of %s to %s refused: %s", email_id, agent, decision)

    def _arm_timeout(self, email: Email) -> None:
        timeout = self.routing.offer_timeout
        if timeout is None:
            return
        loop = asyncio.get_event_loop()
        version = email.version
        self._timers[email.id] = loop.call_later(
            timeout, lambda: self._spawn(self._expire(email.id, version))
        )

    async def _expire(self, email_id: str, version: int) -> None:
        self._timers.pop(email_id, None)
        try:
            await self.sync()
        except LogClosedError:
            return
        email = self.store.emails.get(email_id)
        if email is None or email.version != version or email.phase is not Phase.INVITED:
            return
        try:
            await self.system(Revoke(email_id=email_id))
        except LogClosedError:
            return

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


SERVER_UNAVAILABLE: Answer = {
    "statusCode": int(StatusCode.INVALID_STATE),
    "statusMessage": "the server's event log failed: no change can be stored",
}
"""The answer (HTTP 503) to a change once the log has failed."""
