"""A ready state machine: random operations on a few emails, invariants after every step.

:class:`EmailLifecycleMachine` is a hypothesis ``RuleBasedStateMachine`` that drives a
:class:`~email_fsm.ContactCenter` through arrivals, Create, offers, revocations, holders'
valid requests and anybody's malformed ones, and checks after every step:

- the ownership rules of ``docs/spec.md``, "Lifecycle and ownership", for every email
  (:func:`check_ownership`);
- a refused step changed nothing and notified nobody;
- an accepted step's emails equal the replay of its events, and the center stores
  exactly them; every policy lets an accepted command through;
- capabilities: every notification advertises exactly its recipient's capability list,
  and everywhere the advertised operations are a subset of the allowed ones;
- the recorded history replays to the live emails; terminal emails never change.

Subclass it to add your :attr:`~EmailLifecycleMachine.policies` and your own
``@invariant()`` methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from email_fsm import (
    ADVERTISED,
    DEFAULT_CONFIG,
    TERMINAL_PHASES,
    Command,
    Config,
    ContactCenter,
    Decision,
    Email,
    Offer,
    Phase,
    Policy,
    Refused,
    Revoke,
    StatusCode,
    SystemCommand,
    allowed,
    parse_request,
    permissions,
    replay,
)

from .bodies import _create_requests, _request_bodies, arbitrary_requests
from .histories import _arrival
from .vocab import AGENTS, QUEUES, _Pools, agents

__all__ = ["EmailLifecycleMachine", "StepRecord", "check_ownership"]


def check_ownership(email: Email) -> None:
    """Raise ``AssertionError`` unless ``email`` keeps the ownership rules of
    ``docs/spec.md``, "Lifecycle and ownership".

    Processing/Composing: one owner, no invitee; Invited: one invitee, no owner; Queued
    and the terminal phases: neither (and Queued has a queue).
    """
    phase = email.phase
    if phase in (Phase.PROCESSING, Phase.COMPOSING):
        ok = bool(email.owner) and email.invitee is None
    elif phase is Phase.INVITED:
        ok = bool(email.invitee) and email.owner is None
    else:
        ok = email.owner is None and email.invitee is None
        ok = ok and (phase is not Phase.QUEUED or bool(email.queue))
    if not ok:
        raise AssertionError(
            f"email {email.id} is {phase} with owner={email.owner!r}, invitee={email.invitee!r}"
        )
    if (phase is Phase.PROCESSING and not email.inbound) or (
        phase is Phase.COMPOSING and email.inbound
    ):
        raise AssertionError(f"email {email.id} is {email.direction} and {phase}")


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step :class:`EmailLifecycleMachine` took.

    ``before``: the live emails before the step. ``command``: the typed command (for a
    request: as parsed; ``None`` when the body did not parse). ``decision``: what the
    center decided.
    """

    before: Mapping[str, Email]
    command: Command | None
    decision: Decision


class EmailLifecycleMachine(RuleBasedStateMachine):
    """Random operations on a population of emails, with the library's invariants
    checked after every step (listed in :mod:`email_fsm.testing.machine`).

    Run it with ``TestLifecycle = EmailLifecycleMachine.TestCase``. Subclass it to test
    your business rules: set :attr:`policies`, and add ``@invariant()`` methods that read
    :attr:`center` (the live emails) and :attr:`last_step` (the step just taken)::

        class VipMachine(EmailLifecycleMachine):
            policies = (vip_only_to_vip_queue,)

            @invariant()
            def vip_emails_stay_with_vip(self) -> None:
                ...

        TestVip = VipMachine.TestCase
    """

    policies: ClassVar[Sequence[Policy]] = ()
    """Your policies, passed to the :class:`~email_fsm.ContactCenter`."""
    config: ClassVar[Config] = DEFAULT_CONFIG
    """The model's configuration."""
    agent_names: ClassVar[Sequence[str]] = AGENTS
    """The agents who act (at least two)."""
    queue_names: ClassVar[Sequence[str]] = QUEUES
    """The queues emails arrive in and move to."""
    live_emails: ClassVar[int] = 3
    """No email arrives or is created while this many are not terminal yet: the
    machine spends its steps on the lives of a few emails rather than on births."""

    def __init__(self) -> None:
        super().__init__()
        self.pools = _Pools(tuple(self.agent_names), tuple(self.queue_names), self.config)
        self.center = ContactCenter(config=self.config, policies=self.policies, record=True)
        """The live emails (``center.emails``) and their history (``center.history``)."""
        self.steps: list[StepRecord] = []
        """Every step taken so far."""
        self._ids = 0
        self._terminal: dict[str, Email] = {}

    @property
    def last_step(self) -> StepRecord | None:
        """The step just taken (``None`` before the first)."""
        return self.steps[-1] if self.steps else None

    def _fresh_id(self) -> str:
        self._ids += 1
        return f"E{self._ids}"

    def _ids_with(self, predicate: Callable[[Email], bool]) -> list[str]:
        return sorted(k for k, e in self.center.emails.items() if predicate(e))

    # ------------------------------------------------------------------ rules

    def _room(self) -> bool:
        alive = sum(1 for e in self.center.emails.values() if e.phase not in TERMINAL_PHASES)
        return alive < self.live_emails

    @precondition(lambda self: self._room())
    @rule(data=st.data())
    def arrive(self, data: st.DataObject) -> None:
        """An inbound email arrives in a queue."""
        self._execute(data.draw(_arrival(self._fresh_id(), self.pools)))

    @precondition(lambda self: self._room())
    @rule(data=st.data())
    def create(self, data: st.DataObject) -> None:
        """An agent creates an outbound draft."""
        body = data.draw(_create_requests(self.pools))
        self._request(data.draw(agents(self.agent_names)), body, email_id=None)

    @precondition(lambda self: any(e.phase is Phase.QUEUED for e in self.center.emails.values()))
    @rule(data=st.data())
    def offer(self, data: st.DataObject) -> None:
        """Routing offers a queued email to an agent."""
        email_id = data.draw(st.sampled_from(self._ids_with(lambda e: e.phase is Phase.QUEUED)))
        self._execute(Offer(email_id=email_id, agent=data.draw(agents(self.agent_names))))

    @precondition(lambda self: any(e.phase is Phase.INVITED for e in self.center.emails.values()))
    @rule(data=st.data())
    def revoke(self, data: st.DataObject) -> None:
        """An invitation is withdrawn."""
        email_id = data.draw(st.sampled_from(self._ids_with(lambda e: e.phase is Phase.INVITED)))
        self._execute(Revoke(email_id=email_id))

    @precondition(lambda self: any(e.holder for e in self.center.emails.values()))
    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        """The holder of an email sends a valid request (policies may still refuse it).

        Named to sort first: hypothesis favours the first rule, and holders' requests are
        what moves emails through their lives."""
        email = self.center.emails[
            data.draw(st.sampled_from(self._ids_with(lambda e: e.holder is not None)))
        ]
        assert email.holder is not None
        body = data.draw(_request_bodies(email, email.holder, self.pools))
        self._request(email.holder, body, email_id=email.id)

    @rule(data=st.data())
    def stray(self, data: st.DataObject) -> None:
        """Anything from anybody about any email (existing or not): a request valid for
        the holder, a malformed body, or an Offer or Revoke in any phase."""
        email_id = data.draw(st.sampled_from([*sorted(self.center.emails), "missing"]))
        agent = data.draw(agents(self.agent_names))
        email = self.center.emails.get(email_id)
        kind = data.draw(st.sampled_from(("valid", "malformed", "Offer", "Revoke")))
        if kind == "Offer":
            self._execute(Offer(email_id=email_id, agent=agent))
        elif kind == "Revoke":
            self._execute(Revoke(email_id=email_id))
        elif kind == "valid" and email is not None and email.holder is not None:
            self._request(
                agent,
                data.draw(_request_bodies(email, email.holder, self.pools)),
                email_id=email_id,
            )
        else:
            self._request(agent, data.draw(arbitrary_requests()), email_id=email_id)

    # ------------------------------------------------------------------ steps

    def _execute(self, command: SystemCommand) -> None:
        before = dict(self.center.emails)
        self._record(StepRecord(before, command, self.center.execute(command)))

    def _request(self, agent: str, body: object, *, email_id: str | None) -> None:
        before = dict(self.center.emails)
        new_id = self._fresh_id()
        decision = self.center.request(
            agent, body, email_id=email_id, new_email_id=new_id, reference_id=len(self.steps)
        )
        parsed = parse_request(
            body,
            actor=agent,
            email_id=email_id,
            new_email_id=new_id,
            reference_id=len(self.steps),
        )
        command = None if isinstance(parsed, Refused) else parsed
        self._record(StepRecord(before, command, decision))

    def _record(self, step: StepRecord) -> None:
        self.steps.append(step)
        before, decision = step.before, step.decision
        live = dict(self.center.emails)
        if isinstance(decision, Refused):
            assert decision.code is not StatusCode.OK
            assert decision.message
            assert live.keys() == before.keys(), "a refused step created or removed an email"
            changed = [k for k in live if live[k] is not before[k]]
            assert not changed, f"a refused step changed {changed}"
            return
        command = step.command
        assert command is not None, "an accepted request must parse"
        concerned = before.get(command.email_id)
        for policy in self.policies:
            assert policy(command, concerned) is None, f"{policy!r} refuses an accepted step"
        replayed = replay(decision.events, before)
        for email in decision.emails:
            assert replayed[email.id] == email, f"email {email.id} differs from its replay"
        assert live == {**before, **{e.id: e for e in decision.emails}}
        for note in decision.notifications:
            expected = ADVERTISED[note.email.phase] if note.recipient == note.email.holder else ()
            assert note.capabilities == expected, f"wrong capabilities in {note!r}"

    # ------------------------------------------------------------- invariants

    @invariant()
    def ownership(self) -> None:
        """Every email keeps the ownership rules (:func:`check_ownership`)."""
        for email in self.center.emails.values():
            check_ownership(email)

    @invariant()
    def advertised_within_allowed(self) -> None:
        """What GWS advertises is allowed; only the holder of a live email may act."""
        for email in self.center.emails.values():
            for agent in self.agent_names:
                granted = permissions(email, agent)
                assert set(granted.advertised) <= set(granted.allowed)
                assert granted.allowed == allowed(email, agent)
                if granted.allowed:
                    assert agent == email.holder
                    assert email.phase not in TERMINAL_PHASES

    @invariant()
    def history_replays_to_live_emails(self) -> None:
        """Replaying every accepted event rebuilds the live emails."""
        rebuilt = replay(self.center.history)
        assert rebuilt == dict(self.center.emails), "the history does not rebuild the emails"

    @invariant()
    def terminal_emails_never_change(self) -> None:
        """Completed, Sent and Canceled emails stay exactly as they were."""
        for email_id, email in self._terminal.items():
            assert self.center.emails[email_id] is email, f"terminal {email_id} changed"
        self._terminal.update(
            (k, e) for k, e in self.center.emails.items() if e.phase in TERMINAL_PHASES
        )
