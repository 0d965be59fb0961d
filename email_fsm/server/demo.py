"""``email-fsm serve --demo``: a contact center that moves by itself.

:class:`Demo` runs inside the server (its lifespan starts and stops it). It makes an
inbound email arrive every :attr:`DemoSettings.arrival_seconds` (while fewer than
:attr:`DemoSettings.max_queued` wait), from a fixed list of customers and subjects
(:func:`demo_emails`), and logs in :attr:`DemoSettings.bots`: agents with no desktop
who accept each invitation, reply to most emails (the reply saved, then sent) and
complete them, a step every :attr:`DemoSettings.step_seconds`. Their requests take the
same path as a desktop's (:meth:`ContactCenterService.agent_request
<email_fsm.server.service.ContactCenterService.agent_request>`), so the inspector shows
them as any agent's.

People log in at ``/desktop`` as one of :attr:`DemoSettings.agents` (the server prints
their passwords) and get their share of the emails from the router.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from ..commands import Arrive
from ..decisions import Accepted
from ..vocabulary import Phase, ViewState
from .auth import Agent, Directory
from .service import ContactCenterService, Observation

__all__ = ["DEFAULT_STORE", "Demo", "DemoSettings", "demo_emails"]

log = logging.getLogger("email_fsm.server")

DEFAULT_STORE: Final = "sqlite:///email-fsm.sqlite"
"""``--store``'s default: with ``--demo`` and no ``--store``, the demo runs in memory."""

_CUSTOMERS: Final = (
    "ada@example.com",
    "grace@example.org",
    "linus@example.net",
    "margaret@example.com",
    "ken@example.org",
)
_SUBJECTS: Final = (
    ("Where is my order?", "I ordered a kettle last week and it has not arrived."),
    ("Change my address", "I moved: please send the next parcel to my new address."),
    ("Refund for a broken cup", "The cup arrived in pieces. Can I have a refund?"),
    ("Invoice missing", "I cannot find the invoice for my last order."),
    ("Cancel my subscription", "Please cancel my subscription at the end of the month."),
    ("Password reset", "The reset link in your email has expired."),
    ("Thank you!", "Just wanted to say the support was great last time."),
)


def demo_emails() -> Iterator[dict[str, Any]]:
    """The demo's inbound emails, forever: ``from``, ``subject``, ``body`` (a fixed cycle,
    so that every run shows the same stream).

    >>> emails = demo_emails()
    >>> [next(emails)["subject"] for _ in range(2)]
    ['Where is my order?', 'Change my address']
    """
    for number in itertools.count():
        subject, body = _SUBJECTS[number % len(_SUBJECTS)]
        yield {"from": _CUSTOMERS[number % len(_CUSTOMERS)], "subject": subject, "body": body}


@dataclass(frozen=True, kw_only=True)
class DemoSettings:
    """What the demo does (``email-fsm serve --demo``)."""

    agents: tuple[Agent, ...] = (
        Agent("alice", "alice", "Alice", "Martin"),
        Agent("bob", "bob", "Bob", "Lee"),
        Agent("carol", "carol", "Carol", "Diaz"),
    )
    """Who may log in at ``/desktop`` (unless ``--agents`` or ``--open`` says otherwise);
    each password is the user name."""
    bots: tuple[str, ...] = ("bot-1", "bot-2")
    """Agents the demo plays itself."""
    queue: str = "inbound"
    """Where the emails arrive."""
    outbound_queue: str = "outbound"
    """Where the bots send their replies."""
    arrival_seconds: float = 6.0
    """Time between two arrivals."""
    max_queued: int = 5
    """No arrival while this many emails are Queued."""
    step_seconds: float = 2.5
    """Time between two of a bot's requests."""
    reply_every: int = 3
    """A bot completes every ``reply_every``-th email without replying (0: always replies)."""

    def directory(self) -> Directory:
        """The agents who may log in."""
        return Directory(self.agents)

    def banner(self, url: str) -> str:
        """What the server prints at start: where to look, and who may log in."""
        logins = ", ".join(f"{a.user_name} (password {a.password!r})" for a in self.agents)
        return (
            f"demo: the agent desktop is at {url}/desktop, the inspector at {url}/inspector\n"
            f"demo: log in as {logins}; the bots {', '.join(self.bots)} work too;\n"
            f"demo: an email arrives every {self.arrival_seconds:g} s"
        )


class Demo:
    """The demo's arrivals and bots around one service (see the module's documentation)."""

    def __init__(self, service: ContactCenterService, settings: DemoSettings) -> None:
        self.service = service
        self.settings = settings
        self.emails = demo_emails()
        self.arrived = 0
        """How many emails the demo made arrive."""
        self.completed = 0
        """How many emails the bots completed."""
        self._worked = itertools.count()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._busy: set[str] = set()

    def start(self) -> None:
        """Log the bots in and start the arrivals (in the server's loop)."""
        self.service.observers.append(self.observe)
        for bot in self.settings.bots:
            self.service.start_session(bot, ["email"])
        self._spawn(self._arrivals())

    async def stop(self) -> None:
        """Stop the arrivals and the bots' work."""
        if self.observe in self.service.observers:
            self.service.observers.remove(self.observe)
        for task in tuple(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ arrivals

    async def arrive(self) -> str | None:
        """One arrival now, unless :attr:`DemoSettings.max_queued` emails wait: its id."""
        if len(self.service.store.in_phase(Phase.QUEUED)) >= self.settings.max_queued:
            return None
        fields = next(self.emails)
        email_id = self.service.new_id("E")
        decision = await self.service.system(
            Arrive(
                email_id=email_id,
                queue=self.settings.queue,
                from_=fields["from"],
                to=("support@example.com",),
                subject=fields["subject"],
                body=fields["body"],
            )
        )
        if not isinstance(decision, Accepted):
            return None
        self.arrived += 1
        return email_id

    async def _arrivals(self) -> None:
        while True:
            await self.arrive()
            await asyncio.sleep(self.settings.arrival_seconds)

    # ------------------------------------------------------------------ bots

    def observe(self, observation: Observation) -> None:
        """A bot invited to an email starts working on it."""
        decision = observation.decision
        if not isinstance(decision, Accepted):
            return
        for notification in decision.notifications:
            bot = notification.recipient
            key = f"{bot} {notification.email.id}"
            if (
                bot in self.settings.bots
                and notification.state is ViewState.INVITED
                and key not in self._busy
            ):
                self._busy.add(key)
                self._spawn(self.work(bot, notification.email.id))

    async def _ask(self, bot: str, email_id: str, body: dict[str, Any]) -> bool:
        await asyncio.sleep(self.settings.step_seconds)
        answer = await self.service.agent_request(bot, json.dumps(body).encode(), email_id)
        return answer.get("statusCode") == 0

    async def work(self, bot: str, email_id: str) -> None:
        """What a bot does with an invitation: accept, reply (most times), complete."""
        try:
            if not await self._ask(bot, email_id, {"operationName": "Accept"}):
                return
            every = self.settings.reply_every
            if (every == 0 or next(self._worked) % every != every - 1) and await self._ask(
                bot, email_id, {"operationName": "Reply"}
            ):
                await self._answer(bot, email_id)
            if await self._ask(bot, email_id, {"operationName": "Complete"}):
                self.completed += 1
        finally:
            self._busy.discard(f"{bot} {email_id}")

    async def _answer(self, bot: str, email_id: str) -> None:
        """Save and send the bot's draft of a reply to ``email_id``."""
        drafts = [
            e
            for e in self.service.store.held_by(bot)
            if e.phase is Phase.COMPOSING and e.content.parent_id == email_id
        ]
        if not drafts:
            return
        draft = drafts[0].id
        text = "Thank you for writing: it is taken care of."
        if await self._ask(bot, draft, {"operationName": "Save", "email": {"body": text}}):
            await self._ask(
                bot, draft, {"operationName": "Send", "queueName": self.settings.outbound_queue}
            )
