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

Its one rule, ``step``, draws what happens next with weights tuned so that a run of
hypothesis' default length takes every row of the lifecycle table (``docs/testing.md``
shows the measured shares), half the time preferring a holder's operation the run has
not tried yet. Every step is labelled with :func:`hypothesis.event` (the row taken, the
refusal code, the policy that refused), and counted per machine class
(:meth:`EmailLifecycleMachine.statistics`).

It also counts how often each of your policies was consulted (the command had passed
every rule of the model, so the policy decided) and how often it refused. A test run
through ``TestCase`` fails when one of them refused nothing: its condition never held
under the vocabulary the test drew from, and the test proved nothing about it (see
:attr:`EmailLifecycleMachine.idle_policies` to allow it).

Subclass it to add your :attr:`~EmailLifecycleMachine.policies`, your
:attr:`~EmailLifecycleMachine.vocabulary` and your own ``@invariant()`` methods.
"""

from __future__ import annotations

import unittest
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from functools import cache
from typing import ClassVar, NamedTuple

from hypothesis import HealthCheck, event, note
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)

from email_fsm import (
    ADVERTISED,
    TABLE,
    TERMINAL_PHASES,
    Accepted,
    Command,
    Config,
    ContactCenter,
    Decision,
    Email,
    Offer,
    Operation,
    Phase,
    Policy,
    Refused,
    Revoke,
    StatusCode,
    SystemCommand,
    Trigger,
    allowed,
    parse_request,
    permissions,
    replay,
)
from email_fsm.table import Branch

from .bodies import _GRAPH, _body, _create_requests, _feasible, arbitrary_requests
from .histories import _arrival
from .vocab import Body, Vocabulary, _Pools, _sampled, agents

__all__ = [
    "EDGES",
    "EmailLifecycleMachine",
    "MachineStatistics",
    "MachineTestCase",
    "PolicyCount",
    "StepRecord",
    "UnexercisedPolicyError",
    "check_ownership",
    "edge_label",
    "policy_name",
]


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


def edge_label(source: Phase | None, trigger: Trigger, target: Phase) -> str:
    """How a row of the lifecycle table, taken to ``target``, is named in the machine's
    events and statistics: ``"Processing Complete -> Completed"`` (``"new"`` for a row
    that creates its email)."""
    return f"{source or 'new'} {trigger} -> {target}"


EDGES: tuple[str, ...] = tuple(
    edge_label(row.source, row.trigger, edge.target) for row in TABLE for edge in row.edges
)
"""Every row of the lifecycle table with each of its targets (:func:`edge_label`), in
table order: what :meth:`EmailLifecycleMachine.statistics` counts."""


def policy_name(policy: Policy) -> str:
    """A policy's name in messages: its function's name (the factory's, for the
    ``policy`` a factory such as :func:`~email_fsm.max_transfers` built)."""
    qualname = getattr(policy, "__qualname__", None) or type(policy).__qualname__
    parts = qualname.split(".")
    if parts[-1] == "policy" and len(parts) > 2 and parts[-2] == "<locals>":
        return parts[-3]
    return parts[-1]


@dataclass(frozen=True, slots=True)
class StepRecord:
    """One step :class:`EmailLifecycleMachine` took.

    ``before``: the live emails before the step. ``command``: the typed command (for a
    request: as parsed; ``None`` when the body did not parse). ``decision``: what the
    center decided. ``refused_by``: the policy of
    :attr:`~EmailLifecycleMachine.policies` that refused it (``None`` when none did:
    accepted, or refused by the model's own rules).
    """

    before: Mapping[str, Email]
    command: Command | None
    decision: Decision
    refused_by: Policy | None = None

    @property
    def accepted(self) -> bool:
        """The step was accepted."""
        return isinstance(self.decision, Accepted)

    @property
    def email(self) -> Email | None:
        """The email the command was about, as it was before the step (``None`` for a
        new one, a missing one, or a body that did not parse)."""
        return None if self.command is None else self.before.get(self.command.email_id)


@dataclass(slots=True)
class PolicyCount:
    """How one policy fared over a test: ``consulted`` (commands that had passed every
    rule of the model, so that the policy decided) and ``refused``."""

    name: str
    consulted: int = 0
    refused: int = 0


@dataclass(slots=True)
class MachineStatistics:
    """What the runs of one machine class did since its counts were last reset (by
    :meth:`EmailLifecycleMachine.run`, at the start of each test through ``TestCase``).

    ``examples``: runs (hypothesis examples); ``steps``: steps taken; ``rows``: for each
    row of :data:`EDGES`, in how many runs it was taken at least once; ``refusals``:
    refused steps by status code name; ``policies``: one :class:`PolicyCount` for each
    policy, in the order of :attr:`EmailLifecycleMachine.policies`.
    """

    examples: int = 0
    steps: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)
    policies: list[PolicyCount] = field(default_factory=list)

    def untaken(self) -> list[str]:
        """The rows of :data:`EDGES` no run took."""
        return [edge for edge in EDGES if not self.rows[edge]]


class UnexercisedPolicyError(AssertionError):
    """A test passed, but one of its policies refused nothing: the test proved nothing
    about it."""


class _Counted:
    """A policy that counts its verdicts, and tells its machine which policy refused."""

    def __init__(self, policy: Policy, count: PolicyCount, machine: EmailLifecycleMachine):
        self.policy = policy
        self.count = count
        self.machine = machine

    def __call__(self, command: Command, email: Email | None, /) -> Refused | None:
        self.count.consulted += 1
        refused = self.policy(command, email)
        if refused is not None:
            self.count.refused += 1
            self.machine._refused_by = self.policy
        return refused


class MachineTestCase(unittest.TestCase):
    """The base of ``Machine.TestCase``: its ``settings`` are the test's."""

    settings: ClassVar[Settings]


_STATISTICS: dict[type, MachineStatistics] = {}
_TEST_CASES: dict[type, type[MachineTestCase]] = {}


class _TestCaseProperty:
    """``Machine.TestCase``: hypothesis' test case, run through
    :meth:`EmailLifecycleMachine.run` so that the policies' counts are checked."""

    def __get__(
        self, obj: EmailLifecycleMachine | None, typ: type[EmailLifecycleMachine] | None = None
    ) -> type[MachineTestCase]:
        machine = type(obj) if obj is not None else typ
        assert machine is not None
        if machine not in _TEST_CASES:
            _TEST_CASES[machine] = _test_case(machine)
        return _TEST_CASES[machine]


def _test_case(machine: type[EmailLifecycleMachine]) -> type[MachineTestCase]:
    class StateMachineTestCase(MachineTestCase):
        settings = Settings(deadline=None, suppress_health_check=list(HealthCheck))

        def runTest(self) -> None:
            machine.run(settings=self.settings)

        runTest.is_hypothesis_test = True  # type: ignore[attr-defined]
        runTest._hypothesis_state_machine_class = machine  # type: ignore[attr-defined]

    StateMachineTestCase.__name__ = machine.__name__ + ".TestCase"
    StateMachineTestCase.__qualname__ = machine.__qualname__ + ".TestCase"
    return StateMachineTestCase


class _Choice(NamedTuple):
    """A holder's operation the machine may send: on which email, which row, where to."""

    email_id: str
    operation: Operation
    branch: Branch
    target: Phase


@st.composite
def _choice_body(draw: st.DrawFn, choice: _Choice, email: Email, pools: _Pools) -> Body:
    """A valid body for ``choice``, sent by the holder of ``email``."""
    return _body(draw, choice.operation, choice.branch, email, email.holder or "", pools)


_STYLE_MOVES = st.sampled_from((2, 1, 3))
_OFTEN = st.sampled_from((True, True, True, False))
_WRAP_UPS = (Operation.COMPLETE, Operation.SEND)
_STYLE_OPERATIONS = st.sampled_from(
    [op for op in Operation if op is not Operation.CREATE]  # Create is not a holder's
)


@cache
def _index(size: int) -> st.SearchStrategy[int]:
    return st.integers(0, size - 1)


def _note(step: StepRecord) -> None:
    decision = step.decision
    outcome = "accepted" if isinstance(decision, Accepted) else f"refused: {decision.message}"
    with suppress(InvalidArgument):
        note(f"-> {outcome}")


def _event(label: str) -> None:
    with suppress(InvalidArgument):  # outside a hypothesis test: nothing to label
        event(label)


class EmailLifecycleMachine(RuleBasedStateMachine):
    """Random operations on a population of emails, with the library's invariants
    checked after every step (listed in :mod:`email_fsm.testing.machine`).

    Run it with ``TestLifecycle = EmailLifecycleMachine.TestCase``. Subclass it to test
    your business rules: set :attr:`policies` and :attr:`vocabulary` (the values your
    rules read), and add ``@invariant()`` methods that read :attr:`center` (the live
    emails) and :attr:`last_step` (the step just taken)::

        class PriorityMachine(EmailLifecycleMachine):
            policies = (high_priority_needs_disposition,)
            vocabulary = Vocabulary(user_data={"Priority": st.sampled_from(["high", "low"])})

            @invariant()
            def no_high_priority_email_completed_without_disposition(self) -> None:
                ...

        TestPriority = PriorityMachine.TestCase

    ``TestCase`` runs the machine with :meth:`run`, which fails the test when one of
    :attr:`policies` refused nothing (:meth:`check_exercised`).
    """

    policies: ClassVar[Sequence[Policy]] = ()
    """Your policies, passed to the :class:`~email_fsm.ContactCenter`."""
    vocabulary: ClassVar[Vocabulary] = Vocabulary()
    """Your agents, queues, content and userData (:class:`~email_fsm.testing.Vocabulary`):
    every email and request the machine generates draws from it."""
    config: ClassVar[Config | None] = None
    """The model's configuration (``None``: the vocabulary's, by default
    :data:`~email_fsm.DEFAULT_CONFIG`)."""
    agent_names: ClassVar[Sequence[str] | None] = None
    """The agents who act (at least two; ``None``: the vocabulary's)."""
    queue_names: ClassVar[Sequence[str] | None] = None
    """The queues emails arrive in and move to (``None``: the vocabulary's)."""
    live_emails: ClassVar[int] = 3
    """No email arrives or is created while this many are not terminal yet: the
    machine spends its steps on the lives of a few emails rather than on births."""
    idle_policies: ClassVar[bool | Collection[Policy]] = ()
    """The policies that may refuse nothing in a test without failing it (``True``: all
    of them). Say so only when that is expected: a policy that never refused was never
    tested."""
    weights: ClassVar[Mapping[str, int]] = {
        "act": 12,
        "offer": 4,
        "arrive": 3,
        "create": 1,
        "revoke": 1,
        "stray": 1,
    }
    """How often each kind of step is drawn, where it can be taken: ``act`` (a holder's
    valid request), ``offer``, ``arrive``, ``create`` (while fewer than
    :attr:`live_emails` are live), ``revoke``, and ``stray`` (anything from anybody)."""

    operation_weights: ClassVar[Mapping[Operation, int]] = {
        Operation.ACCEPT: 2,
        Operation.SET_DISPOSITION: 2,
        Operation.REMOVE_ATTACHMENT: 4,
    }
    """How often a holder's operation is drawn, against 1 for those not listed, among
    the operations that move the email (or among those that keep its phase): Accept
    twice as often as Reject, SetDisposition (which Complete often waits for) twice as
    often as each other property operation, RemoveAttachment (possible only once a
    draft has an attachment) four times."""

    TestCase = _TestCaseProperty()  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        self.pools = _Pools.of(self.vocabulary, self.agent_names, self.queue_names, self.config)
        stats = cls.statistics()
        if len(stats.policies) != len(self.policies):
            stats.policies = [PolicyCount(policy_name(p)) for p in self.policies]
        stats.examples += 1
        self._stats = stats
        self._refused_by: Policy | None = None
        counted = [_Counted(p, c, self) for p, c in zip(self.policies, stats.policies, strict=True)]
        self.center = ContactCenter(config=self.pools.config, policies=counted, record=True)
        """The live emails (``center.emails``) and their history (``center.history``)."""
        self.steps: list[StepRecord] = []
        """Every step taken so far."""
        self._ids = 0
        self._terminal: dict[str, Email] = {}
        self._taken: set[str] = set()
        self._focus: str | None = None
        self._disposed: str | None = None
        self._drawn_style: tuple[int, Operation] | None = None
        self._tried: set[tuple[Phase, Operation, Branch]] = set()

    # ------------------------------------------------------------ test runs

    @classmethod
    def statistics(cls) -> MachineStatistics:
        """The counts of this machine class since the last :meth:`reset_statistics`."""
        if cls not in _STATISTICS:
            _STATISTICS[cls] = MachineStatistics(
                policies=[PolicyCount(policy_name(p)) for p in cls.policies]
            )
        return _STATISTICS[cls]

    @classmethod
    def reset_statistics(cls) -> None:
        """Start counting afresh (:meth:`run` does, before it runs)."""
        _STATISTICS.pop(cls, None)

    @classmethod
    def run(cls, *, settings: Settings | None = None) -> None:
        """Run the machine as a hypothesis test (``settings``: those of ``TestCase`` by
        default), then :meth:`check_exercised`. ``TestCase`` runs this."""
        cls.reset_statistics()
        run_state_machine_as_test(cls, settings=settings)
        cls.check_exercised()

    @classmethod
    def check_exercised(cls) -> None:
        """Raise :class:`UnexercisedPolicyError` when a policy of :attr:`policies` not
        in :attr:`idle_policies` refused nothing since the counts were reset."""
        if cls.idle_policies is True:
            return
        idle = () if cls.idle_policies is False else cls.idle_policies
        stats = cls.statistics()
        for policy, count in zip(cls.policies, stats.policies, strict=True):
            if count.refused or any(policy is p for p in idle):
                continue
            if count.consulted:
                why = (
                    f"consulted {count.consulted:,} times, it let every command through: "
                    "its condition may never hold under these strategies"
                )
            else:
                why = "no command reached it: nothing it judges was tried"
            raise UnexercisedPolicyError(
                f"policy `{count.name}` refused nothing in {stats.steps:,} steps "
                f"({stats.examples:,} runs of {cls.__name__}); {why}. Give the machine a "
                "vocabulary that draws the values it reads, or list it in idle_policies "
                "if that is expected."
            )

    # ------------------------------------------------------------------ helpers

    @property
    def last_step(self) -> StepRecord | None:
        """The step just taken (``None`` before the first)."""
        return self.steps[-1] if self.steps else None

    def _fresh_id(self) -> str:
        self._ids += 1
        return f"E{self._ids}"

    def _ids_with(self, predicate: Callable[[Email], bool]) -> list[str]:
        return sorted(k for k, e in self.center.emails.items() if predicate(e))

    def _room(self) -> bool:
        alive = sum(1 for e in self.center.emails.values() if e.phase not in TERMINAL_PHASES)
        return alive < self.live_emails

    def _kinds(self) -> list[str]:
        """The kinds of step that can be taken now, each as often as its weight."""
        emails = self.center.emails.values()
        possible = {
            "act": any(e.holder for e in emails),
            "offer": any(e.phase is Phase.QUEUED for e in emails),
            "arrive": self._room(),
            "create": self._room(),
            "revoke": any(e.phase is Phase.INVITED for e in emails),
            "stray": True,
        }
        return [
            kind for kind, ok in possible.items() for _ in range(self.weights.get(kind, 0) * ok)
        ]

    # ------------------------------------------------------------------ the rule

    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        """One step: its kind drawn by :attr:`weights` among those possible now."""
        kinds = tuple(self._kinds()) or ("stray",)
        kind = data.draw(_sampled(kinds), label="step")
        getattr(self, f"_{kind}")(data)

    def _arrive(self, data: st.DataObject) -> None:
        """An inbound email arrives in a queue."""
        self._execute(data.draw(_arrival(self._fresh_id(), self.pools), label="arrival"))

    def _create(self, data: st.DataObject) -> None:
        """An agent creates an outbound draft."""
        agent = data.draw(agents(self.pools.agents), label="agent")
        body = data.draw(_create_requests(self.pools), label="request")
        self._request(agent, body, email_id=None)

    def _offer(self, data: st.DataObject) -> None:
        """Routing offers a queued email to an agent."""
        queued = self._ids_with(lambda e: e.phase is Phase.QUEUED)
        email_id = data.draw(_sampled(tuple(queued)), label="email")
        agent = data.draw(agents(self.pools.agents), label="agent")
        self._execute(Offer(email_id=email_id, agent=agent))

    def _revoke(self, data: st.DataObject) -> None:
        """An invitation is withdrawn."""
        invited = self._ids_with(lambda e: e.phase is Phase.INVITED)
        self._execute(Revoke(email_id=data.draw(_sampled(tuple(invited)), label="email")))

    def _choices(self) -> list[_Choice]:
        choices = []
        for email_id in self._ids_with(lambda e: e.holder is not None):
            email = self.center.emails[email_id]
            for trigger, branch, (_, target) in _GRAPH[(email.direction, email.phase)]:
                if isinstance(trigger, Operation) and _feasible(trigger, branch, email, self.pools):
                    choices.append(_Choice(email_id, trigger, branch, target))
        return choices

    def _style(self, data: st.DataObject) -> tuple[int, Operation]:
        """This run's style, drawn at its first act: how often (in 4) a holder moves the
        email to another phase, and the operation the run favours (four times its
        weight). Runs that differ so (swarm testing) reach deeper sequences: many
        dispositions before a Complete, many transfers of one email."""
        if self._drawn_style is None:
            moves = data.draw(_STYLE_MOVES, label="moves in 4")
            favoured = data.draw(_STYLE_OPERATIONS, label="favoured operation")
            self._drawn_style = (moves, favoured)
        return self._drawn_style

    def _act(self, data: st.DataObject) -> None:
        """The holder of an email sends a valid request (policies may still refuse it):
        half the time one the run has not tried yet; otherwise on the email acted on
        last (half the time, as an agent works on one email) or one drawn at random,
        one that moves it to another phase or one that keeps it as the run's style says,
        the operation by :attr:`operation_weights`. After a SetDisposition, the next
        request about the email is, three times in four, the agent wrapping it up: a
        Complete (of an inbound email) or a Send (of a draft)."""
        choices = self._choices()
        emails = self.center.emails
        fresh = [c for c in choices if (emails[c.email_id].phase, *c[1:3]) not in self._tried]
        held = tuple(sorted({c.email_id for c in choices}))
        disposed = self._disposed
        wrap_up = disposed in held and data.draw(_OFTEN, label="wrap up")
        if not wrap_up and bool(fresh) and data.draw(st.booleans(), label="untried"):
            choice = fresh[data.draw(_index(len(fresh)), label="operation")]
        else:
            moves, favoured = self._style(data)
            if wrap_up and disposed is not None:
                email_id = disposed
            elif self._focus in held and data.draw(st.booleans(), label="same email"):
                email_id = self._focus
            else:
                email_id = data.draw(_sampled(held), label="email")
            phase = emails[email_id].phase
            mine = [c for c in choices if c.email_id == email_id]
            moving = wrap_up or data.draw(_index(4), label="moves") < moves
            picked = [c for c in mine if (c.target != phase) is moving] or mine
            if wrap_up:
                picked = [c for c in picked if c.operation in _WRAP_UPS] or picked
            weights = {**self.operation_weights}
            weights[favoured] = weights.get(favoured, 1) * 4
            picked = [c for c in picked for _ in range(weights.get(c.operation, 1))]
            choice = picked[data.draw(_index(len(picked)), label="operation")]
        email = emails[choice.email_id]
        self._focus = email.id
        self._tried.add((email.phase, choice.operation, choice.branch))
        assert email.holder is not None
        body = data.draw(_choice_body(choice, email, self.pools), label="request")
        self._request(email.holder, body, email_id=email.id)
        if choice.operation is Operation.SET_DISPOSITION and self.steps[-1].accepted:
            self._disposed = email.id
        elif email.id == self._disposed:
            self._disposed = None

    def _stray(self, data: st.DataObject) -> None:
        """Anything from anybody about any email (existing or not): a request valid for
        the holder, a malformed body, or an Offer or Revoke in any phase."""
        email_id = data.draw(_sampled((*sorted(self.center.emails), "missing")))
        agent = data.draw(agents(self.pools.agents))
        email = self.center.emails.get(email_id)
        kind = data.draw(_sampled(("valid", "malformed", "Offer", "Revoke")))
        if kind == "Offer":
            self._execute(Offer(email_id=email_id, agent=agent))
        elif kind == "Revoke":
            self._execute(Revoke(email_id=email_id))
        elif kind == "valid" and email is not None and email.holder is not None:
            choices = [c for c in self._choices() if c.email_id == email_id]
            choice = choices[data.draw(_index(len(choices)))]
            body = data.draw(_choice_body(choice, email, self.pools))
            self._request(agent, body, email_id=email_id)
        else:
            anything = data.draw(arbitrary_requests(vocabulary=self.pools.vocabulary))
            self._request(agent, anything, email_id=email_id)

    # ------------------------------------------------------------------ steps

    def _execute(self, command: SystemCommand) -> None:
        before = dict(self.center.emails)
        self._refused_by = None
        decision = self.center.execute(command)
        self._record(StepRecord(before, command, decision, self._refused_by))

    def _request(self, agent: str, body: object, *, email_id: str | None) -> None:
        before = dict(self.center.emails)
        new_id = self._fresh_id()
        self._refused_by = None
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
        self._record(StepRecord(before, command, decision, self._refused_by))

    def _count(self, step: StepRecord) -> None:
        """Label the step (hypothesis events), count it, and note its outcome (printed
        with a failing example)."""
        stats = self._stats
        stats.steps += 1
        decision, command = step.decision, step.command
        _note(step)
        if isinstance(decision, Refused):
            stats.refusals[decision.code.name] += 1
            _event(f"refused: {decision.code.value} {decision.code.name}")
            if step.refused_by is not None:
                _event(f"policy refused: {policy_name(step.refused_by)}")
            return
        assert command is not None
        source = step.before.get(command.email_id)
        after = next((e for e in decision.emails if e.id == command.email_id), source)
        assert after is not None
        phase = None if source is None else source.phase
        label = edge_label(phase, command.operation, after.phase)
        _event(f"row: {label}")
        if label not in self._taken:
            self._taken.add(label)
            stats.rows[label] += 1

    def _record(self, step: StepRecord) -> None:
        self.steps.append(step)
        self._count(step)
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
        for sent in decision.notifications:
            expected = ADVERTISED[sent.email.phase] if sent.recipient == sent.email.holder else ()
            assert sent.capabilities == expected, f"wrong capabilities in {sent!r}"

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
            for agent in self.pools.agents:
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
