"""The live emails of one contact center, and the one place they change.

:class:`EmailStore` is what a GWS-compatible server or a simulator embeds. It keeps the
emails in a dict, passes commands and GWS request bodies to :func:`~email_fsm.decide`,
stores the emails of accepted decisions and hands the decision back (with its
notifications) to the caller, who delivers them. On top of that it offers:

- seeding (``EmailStore(emails)``, :meth:`EmailStore.from_events`);
- compare-and-set (:meth:`EmailStore.apply`) for a server that decides outside the store
  and stores later, with an ``await`` (a database, a queue) in between;
- queries answered from indexes kept up to date per stored email, without a scan
  (:meth:`~EmailStore.held_by`, :meth:`~EmailStore.owned_by`,
  :meth:`~EmailStore.invited`, :meth:`~EmailStore.queued`, :meth:`~EmailStore.in_phase`);
- eviction of finished emails (:meth:`EmailStore.evict_terminal`, ``evict_after``);
- ``strict=True``, where a refusal raises :class:`~email_fsm.RefusedError` (for
  simulations, where a refusal is a bug to stop at).

It does no I/O and reads no clock: the time of a step is the ``at`` its caller passes.

The store is single-threaded: nothing in it locks. An asyncio server with no ``await``
between deciding and storing (:meth:`~EmailStore.execute`, :meth:`~EmailStore.request`)
is safe; a server that awaits between deciding and storing uses
:meth:`~EmailStore.apply`; a threaded server uses
:class:`email_fsm.threadsafe.LockedStore`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

from .capabilities import Permissions, permissions
from .commands import Command
from .config import DEFAULT_CONFIG, Config
from .decider import decide
from .decisions import Accepted, Decision, RefusedError
from .email import Email
from .events import Event
from .evolution import evolve
from .policies import Policy
from .vocabulary import Phase

__all__ = ["EmailStore"]

_Index = dict[object, dict[str, None]]
"""key -> the ids of the emails with that key, in the order they got it (a dict as an
ordered set: O(1) insertion and removal)."""


def _move(index: _Index, email_id: str, old: object, new: object) -> None:
    if old == new:
        return
    if old is not None:
        bucket = index[old]
        del bucket[email_id]
        if not bucket:
            del index[old]
    if new is not None:
        ids = index.get(new)
        if ids is None:
            index[new] = {email_id: None}
        else:
            ids[email_id] = None


def _queue_key(email: Email | None) -> str | None:
    return email.queue if email is not None and email.phase is Phase.QUEUED else None


class EmailStore:
    """The live emails, their indexes, and the one place they change.

    >>> from email_fsm import Arrive, Offer
    >>> from email_fsm.store import EmailStore
    >>> store = EmailStore()
    >>> _ = store.execute(Arrive(email_id="E1", queue="inbound", subject="Hi"))
    >>> _ = store.execute(Offer(email_id="E1", agent="a"))
    >>> decision = store.request("a", {"operationName": "Accept"}, email_id="E1")
    >>> decision.response(), store.emails["E1"].phase
    ({'statusCode': 0}, <Phase.PROCESSING: 'Processing'>)
    >>> [e.id for e in store.owned_by("a")]
    ['E1']

    ``emails`` seeds the store (ids must be unique; a ``ValueError`` otherwise). With
    ``record=True`` every accepted event is kept in :attr:`history`, so that the state
    can be rebuilt with :func:`~email_fsm.replay` (seeded emails are not in it: replay
    from them). With ``strict=True`` a refusal raises :class:`~email_fsm.RefusedError`
    and stores nothing. With ``evict_after=seconds``, every call given an ``at`` first
    evicts the emails that became terminal at ``at - evict_after`` or earlier.
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
        self.config = config
        self.policies = tuple(policies)
        self.strict = strict
        self.evict_after = evict_after
        self._emails: dict[str, Email] = {}
        self._history: list[Event] | None = [] if record else None
        self._phases: _Index = {}
        self._queues: _Index = {}
        self._owners: _Index = {}
        self._invitees: _Index = {}
        # Terminal emails: those with no time (evicted only by before=None), and a heap
        # of (time, sequence, id) for the others. An email becomes terminal once and
        # leaves only by eviction, which pops its entry: the heap holds no stale entry.
        self._untimed: dict[str, None] = {}
        self._timed: list[tuple[float, int, str]] = []
        self._counter = 0
        self.emails: Mapping[str, Email] = MappingProxyType(self._emails)
        """The live emails by id (read-only view)."""
        for email in emails:
            if email.id in self._emails:
                raise ValueError(f"email {email.id} given twice")
            self._store(email, None)

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
    ) -> EmailStore:
        """A store holding what ``events`` (a log, oldest first) built; with
        ``record=True`` its :attr:`history` is that log. The queues' order is the order
        in which the log queued the emails. Raises ``ValueError`` for a log that
        :func:`~email_fsm.evolve` cannot apply.

        >>> from email_fsm import Arrive, Offer
        >>> live = EmailStore(record=True)
        >>> _ = live.execute(Arrive(email_id="E1", queue="q"))
        >>> _ = live.execute(Offer(email_id="E1", agent="a"))
        >>> store = EmailStore.from_events(live.history, record=True)
        >>> store.emails == live.emails, [e.id for e in store.invited("a")], len(store.history)
        (True, ['E1'], 2)
        """
        store = cls(
            config=config,
            policies=policies,
            record=record,
            strict=strict,
            evict_after=evict_after,
        )
        log = store._history
        for event in events:
            store._store(evolve(store._emails.get(event.email_id), event), None)
            if log is not None:
                log.append(event)
        return store

    @property
    def history(self) -> tuple[Event, ...]:
        """Every accepted event, in order (empty unless created with ``record=True``)."""
        return tuple(self._history or ())

    # ------------------------------------------------------------------ changes

    def execute(self, command: Command, *, at: float | None = None) -> Decision:
        """Decide a typed command and, when accepted, store its resulting emails.

        ``at`` is the caller's time of the step (any number: seconds, a step count): the
        time an email that becomes terminal here became so, for :meth:`evict_terminal`.
        Raises :class:`~email_fsm.RefusedError` for a refusal in a strict store.
        """
        self._tick(at)
        return self._settle(
            decide(self._emails, command, config=self.config, policies=self.policies), at
        )

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
        """Handle a raw GWS request body (dict, JSON text or bytes) from agent ``actor``
        (see :func:`~email_fsm.requests.handle_request`); ``at`` as in :meth:`execute`.

        >>> store = EmailStore(strict=True)
        >>> store.request("a", {"operationName": "Accept"}, email_id="E9")
        Traceback (most recent call last):
        ...
        email_fsm.decisions.RefusedError: 6: Accept refused: email E9 not found
        """
        from .requests import handle_request  # the pydantic boundary, loaded on use

        self._tick(at)
        return self._settle(
            handle_request(
                self._emails,
                body,
                actor=actor,
                email_id=email_id,
                new_email_id=new_email_id,
                new_id=new_id,
                reference_id=reference_id,
                config=self.config,
                policies=self.policies,
            ),
            at,
        )

    def apply(self, command: Command, decision: Decision, *, at: float | None = None) -> bool:
        """Store ``decision`` (decided on ``command`` elsewhere) if nothing changed since:
        compare-and-set.

        An accepted decision is stored only while the command's email still has the
        version the decision read (:attr:`~email_fsm.Accepted.decided_on`; an absent
        email counts as version 0) and every email the decision creates (those of
        ``decision.emails`` at version 1) is still absent. Then it returns True;
        otherwise it stores nothing and returns False: a conflict, decide again on the
        fresh :attr:`emails`.

        A refused decision stores nothing and returns True: it cannot conflict with
        anything stored, and it is the answer to the emails it read (a strict store raises
        :class:`~email_fsm.RefusedError` instead). A server that wants a refusal checked
        against the newest emails decides again.

        >>> from email_fsm import Accept, Arrive, Offer, Reject, decide
        >>> store = EmailStore([])
        >>> _ = store.execute(Arrive(email_id="E1", queue="q"))
        >>> _ = store.execute(Offer(email_id="E1", agent="a"))
        >>> accept, reject = Accept(actor="a", email_id="E1"), Reject(actor="a", email_id="E1")
        >>> first, second = decide(store.emails, accept), decide(store.emails, reject)
        >>> store.apply(accept, first), store.apply(reject, second)
        (True, False)
        >>> store.emails["E1"].phase
        <Phase.PROCESSING: 'Processing'>
        """
        self._tick(at)
        if not isinstance(decision, Accepted):
            if self.strict:
                raise RefusedError(decision)
            return True
        emails = self._emails
        current = emails.get(command.email_id)
        if (0 if current is None else current.version) != decision.decided_on:
            return False
        for email in decision.emails:
            if email.version == 1 and email.id in emails:
                return False
        self._settle(decision, at)
        return True

    def commit(self, decision: Accepted, *, at: float | None = None) -> None:
        """Store an accepted decision's emails as they are, with no check of versions.

        For a caller whose own log already arbitrated (a server whose event log refuses a
        taken ``(email_id, version)``): the log's verdict, not this store's, says whether
        the decision stands, and the store follows the log. Others use
        :meth:`apply`.

        >>> from email_fsm import Arrive, decide
        >>> store = EmailStore()
        >>> store.commit(decide(store.emails, Arrive(email_id="E1", queue="q")).unwrap())
        >>> store.emails["E1"].version
        1
        """
        self._tick(at)
        self._settle(decision, at)

    def evict_terminal(self, *, before: float | None = None) -> int:
        """Forget terminal (Completed, Sent, Canceled) emails; return how many.

        All of them when ``before`` is None; otherwise those that became terminal in a
        call given an ``at <= before`` (terminal emails with no time, seeded ones among
        them, go only with ``before=None``). The indexes forget them too; the history
        (``record=True``) keeps their events.

        >>> from email_fsm import Arrive, Offer
        >>> store = EmailStore()
        >>> _ = store.request("a", {"operationName": "Create"}, new_email_id="D1", at=1.0)
        >>> _ = store.request("a", {"operationName": "Cancel"}, email_id="D1", at=2.0)
        >>> store.evict_terminal(before=1.5), store.evict_terminal(before=2.0), len(store.emails)
        (0, 1, 0)
        """
        evicted = 0
        timed = self._timed
        if before is None:
            for email_id in self._untimed:
                self._forget(email_id)
                evicted += 1
            self._untimed.clear()
            for _, _, email_id in timed:
                self._forget(email_id)
            evicted += len(timed)
            timed.clear()
            return evicted
        while timed and timed[0][0] <= before:
            self._forget(heapq.heappop(timed)[2])
            evicted += 1
        return evicted

    # ------------------------------------------------------------------ queries

    def permissions(self, email_id: str, agent: str) -> Permissions:
        """What ``agent`` may do with email ``email_id`` now (raises ``KeyError``)."""
        return permissions(self._emails[email_id], agent)

    def held_by(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` may act on: those they own, then those they are invited to."""
        ids = {**self._owners.get(agent, {}), **self._invitees.get(agent, {})}
        return self._get(ids)

    def owned_by(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` owns (Processing or Composing), in the order they got them."""
        return self._get(self._owners.get(agent, {}))

    def invited(self, agent: str) -> tuple[Email, ...]:
        """The emails ``agent`` is invited to, in the order of the invitations."""
        return self._get(self._invitees.get(agent, {}))

    def queued(self, queue: str) -> tuple[Email, ...]:
        """The Queued emails of ``queue``, oldest first: in the order they became Queued
        there (an email sent back to the queue goes to the end)."""
        return self._get(self._queues.get(queue, {}))

    def in_phase(self, phase: Phase) -> tuple[Email, ...]:
        """The emails in ``phase``, in the order they entered it."""
        return self._get(self._phases.get(phase, {}))

    # ------------------------------------------------------------------ inside

    def _get(self, ids: Iterable[str]) -> tuple[Email, ...]:
        emails = self._emails
        return tuple(emails[email_id] for email_id in ids)

    def _tick(self, at: float | None) -> None:
        if at is not None and self.evict_after is not None and self._timed:
            self.evict_terminal(before=at - self.evict_after)

    def _settle(self, decision: Decision, at: float | None) -> Decision:
        if isinstance(decision, Accepted):
            for email in decision.emails:
                self._store(email, at)
            if self._history is not None:
                self._history.extend(decision.events)
        elif self.strict:
            raise RefusedError(decision)
        return decision

    def _store(self, email: Email, at: float | None) -> None:
        email_id = email.id
        old = self._emails.get(email_id)
        self._emails[email_id] = email
        if old is None:
            _move(self._phases, email_id, None, email.phase)
            _move(self._queues, email_id, None, _queue_key(email))
            _move(self._owners, email_id, None, email.owner)
            _move(self._invitees, email_id, None, email.invitee)
        else:
            _move(self._phases, email_id, old.phase, email.phase)
            _move(self._queues, email_id, _queue_key(old), _queue_key(email))
            _move(self._owners, email_id, old.owner, email.owner)
            _move(self._invitees, email_id, old.invitee, email.invitee)
        if email.is_terminal and (old is None or not old.is_terminal):
            if at is None:
                self._untimed[email_id] = None
            else:
                self._counter += 1
                heapq.heappush(self._timed, (at, self._counter, email_id))

    def _forget(self, email_id: str) -> None:
        email = self._emails.pop(email_id)
        _move(self._phases, email_id, email.phase, None)
        _move(self._queues, email_id, _queue_key(email), None)
        _move(self._owners, email_id, email.owner, None)
        _move(self._invitees, email_id, email.invitee, None)
