"""A thread-safe :class:`~email_fsm.store.EmailStore` for threaded servers: an adapter.

:class:`LockedStore` has the store's methods and runs each of them under one lock, so
that deciding and storing are one step: two threads accepting and rejecting the same
invitation cannot both succeed (the second decides on the email the first stored). The
plain store does not lock; it is for one thread (or an asyncio loop with no ``await``
between deciding and storing).

One lock is simple and correct; its cost is that requests do not run in parallel (they
do not in CPython anyway: deciding is pure Python). A server that wants to parse and
decide outside the lock decides on :attr:`LockedStore.emails` and stores with
:meth:`LockedStore.apply` (compare-and-set), deciding again on a conflict.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

from .capabilities import Permissions
from .commands import Command
from .config import DEFAULT_CONFIG, Config
from .decisions import Decision
from .email import Email
from .events import Event
from .policies import Policy
from .store import EmailStore
from .vocabulary import Phase

__all__ = ["LockedStore"]


class LockedStore:
    """An :class:`~email_fsm.store.EmailStore` whose every method holds one lock.

    >>> from email_fsm import Arrive, Offer
    >>> store = LockedStore()
    >>> _ = store.execute(Arrive(email_id="E1", queue="q"))
    >>> _ = store.execute(Offer(email_id="E1", agent="a"))
    >>> store.request("a", {"operationName": "Accept"}, email_id="E1").response()
    {'statusCode': 0}
    >>> [e.id for e in store.owned_by("a")]
    ['E1']

    The options are :class:`~email_fsm.store.EmailStore`'s. :attr:`emails` is a copy taken
    under the lock (O(number of emails)): iterating the live dict while another thread
    stores would fail.
    """

    def __init__(
        self,
        emails: Iterable[Email] = (),
        *,
        config: Config = DEFAULT_CONFIG,
        policies: Sequence[Policy] = (),
        record: bool = False,
        strict: bool = False,
        evict_after: float | None = None,
    ) -> None:
        self._store = EmailStore(
            emails,
            config=config,
            policies=policies,
            record=record,
            strict=strict,
            evict_after=evict_after,
        )
        self._lock = threading.Lock()

    @classmethod
    def from_events(
        cls,
        events: Iterable[Event],
        *,
        config: Config = DEFAULT_CONFIG,
        policies: Sequence[Policy] = (),
        record: bool = False,
        strict: bool = False,
        evict_after: float | None = None,
    ) -> LockedStore:
        """A locked store holding what ``events`` built (see
        :meth:`EmailStore.from_events <email_fsm.store.EmailStore.from_events>`)."""
        locked = cls(config=config, policies=policies, strict=strict, evict_after=evict_after)
        locked._store = EmailStore.from_events(
            events,
            config=config,
            policies=policies,
            record=record,
            strict=strict,
            evict_after=evict_after,
        )
        return locked

    @property
    def emails(self) -> Mapping[str, Email]:
        """A read-only copy of the live emails, taken under the lock."""
        with self._lock:
            return MappingProxyType(dict(self._store.emails))

    @property
    def history(self) -> tuple[Event, ...]:
        """Every accepted event, in order (empty unless created with ``record=True``)."""
        with self._lock:
            return self._store.history

    def execute(self, command: Command, *, at: float | None = None) -> Decision:
        """:meth:`EmailStore.execute <email_fsm.store.EmailStore.execute>`, under the lock."""
        with self._lock:
            return self._store.execute(command, at=at)

    def request(
        self,
        actor: str,
        body: object,
        *,
        email_id: str | None = None,
        new_email_id: str | None = None,
        new_id: Callable[[], str] | None = None,
        reference_id: int | None = None,
        at: float | None = None,
    ) -> Decision:
        """:meth:`EmailStore.request <email_fsm.store.EmailStore.request>`, under the lock
        (``new_id`` is called under it too)."""
        with self._lock:
            return self._store.request(
                actor,
                body,
                email_id=email_id,
                new_email_id=new_email_id,
                new_id=new_id,
                reference_id=reference_id,
                at=at,
            )

    def apply(self, command: Command, decision: Decision, *, at: float | None = None) -> bool:
        """:meth:`EmailStore.apply <email_fsm.store.EmailStore.apply>`, under the lock."""
        with self._lock:
            return self._store.apply(command, decision, at=at)

    def evict_terminal(self, *, before: float | None = None) -> int:
        """:meth:`EmailStore.evict_terminal <email_fsm.store.EmailStore.evict_terminal>`,
        under the lock."""
        with self._lock:
            return self._store.evict_terminal(before=before)

    def permissions(self, email_id: str, agent: str) -> Permissions:
        """What ``agent`` may do with email ``email_id`` now (raises ``KeyError``)."""
        with self._lock:
            return self._store.permissions(email_id, agent)

    def held_by(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` owns, then those they are invited to."""
        with self._lock:
            return self._store.held_by(agent)

    def owned_by(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` owns, in the order they got them."""
        with self._lock:
            return self._store.owned_by(agent)

    def invited(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` is invited to, in the order of the invitations."""
        with self._lock:
            return self._store.invited(agent)

    def queued(self, queue: str) -> tuple[Email, ...]:
        """The Queued emails of ``queue``, oldest first."""
        with self._lock:
            return self._store.queued(queue)

    def in_phase(self, phase: Phase) -> tuple[Email, ...]:
        """The emails in ``phase``, in the order they entered it."""
        with self._lock:
            return self._store.in_phase(phase)
