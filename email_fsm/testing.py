"""Property-testing toolkit: hypothesis strategies and a ready state machine.

This module imports `hypothesis <https://hypothesis.readthedocs.io>`_, an optional
dependency: install it with ``pip install "email-fsm[testing]"``. It is not imported by
``import email_fsm``.

What it gives you
-----------------
Strategies (each returns a ``hypothesis`` ``SearchStrategy``):

- :func:`agents`, :func:`queues`, :func:`user_data`: the small vocabularies the others
  draw from. Small pools on purpose: the interesting bugs need the same agent to meet the
  same email twice.
- :func:`reachable` and :func:`emails`: emails in any *reachable* state. They are never
  constructed field by field: a valid history (system events and GWS request bodies) is
  run through :func:`~email_fsm.handle_request` / :func:`~email_fsm.decide`, steered by
  the lifecycle table towards the phases you ask for.
- :func:`requests`: valid GWS request bodies (``dict``) that ``agent`` may send about
  ``email`` now: only the operations :func:`~email_fsm.permissions` allows, with
  realistic parameters (a transfer never targets the actor, a removed attachment is
  attached, a sent draft has a recipient). :func:`create_requests` for Create.
- :func:`arbitrary_requests` and :func:`json_values`: anything a client could send,
  malformed included (unknown operations, wrong types, missing parameters, non-JSON
  text, bytes).
- :func:`scenarios`: whole scenario documents (the JSON that
  :func:`email_fsm.scenario.load_scenario` and ``email-fsm replay`` read), made of system
  events and agent requests.

A state machine, :class:`EmailLifecycleMachine`: a ``RuleBasedStateMachine`` that drives
a population of emails and agents through a :class:`~email_fsm.ContactCenter` with random
operations (valid and invalid) and checks after every step:

- the ownership invariants of SPEC.md §2 for every email (:func:`check_ownership`);
- a refused step changed nothing and notified nobody;
- an accepted step's emails equal the replay of its events, and the center stores
  exactly them; every policy lets an accepted command through;
- capabilities: every notification advertises exactly its recipient's capability list,
  and everywhere the advertised operations are a subset of the allowed ones;
- the recorded history replays to the live emails; terminal emails never change.

Subclass it to add your :attr:`~EmailLifecycleMachine.policies` and your own
``@invariant()`` methods; the ``docs/testing.md`` page walks through an example.

>>> from hypothesis import given, settings
>>> from email_fsm import Phase
>>> @settings(max_examples=20)
... @given(emails(phases={Phase.PROCESSING}))
... def test_processing_has_an_owner(email):
...     assert email.owner is not None and email.invitee is None
>>> test_processing_has_an_owner()
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import ClassVar, TypeAlias, cast

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pydantic import JsonValue

from .capabilities import ADVERTISED, allowed, permissions
from .center import ContactCenter
from .commands import Arrive, Command, Offer, Revoke, SystemCommand
from .config import DEFAULT_CONFIG, Config
from .decider import decide, replay
from .decisions import Accepted, Decision, Refused, StatusCode
from .email import Email
from .policies import Policy
from .requests import handle_request, parse_request
from .scenario import AgentStep, Step
from .table import TABLE, Branch
from .vocabulary import TERMINAL_PHASES, Direction, Operation, Phase, SystemEvent, Trigger

__all__ = [
    "AGENTS",
    "QUEUES",
    "USER_DATA_KEYS",
    "Body",
    "EmailLifecycleMachine",
    "Reached",
    "StepRecord",
    "agents",
    "arbitrary_requests",
    "check_ownership",
    "create_requests",
    "emails",
    "json_values",
    "queues",
    "reachable",
    "requests",
    "scenario_document",
    "scenarios",
    "user_data",
]

Body: TypeAlias = dict[str, JsonValue]
"""A GWS request body, as a client POSTs it."""

AGENTS: tuple[str, ...] = ("alice", "bob", "carol")
"""The default agent pool."""

QUEUES: tuple[str, ...] = ("inbound", "billing", "vip", "outbound")
"""The default queue pool."""

USER_DATA_KEYS: tuple[str, ...] = ("VIP", "Language", "Priority", "Segment", "ContactId")
"""The userData keys :func:`user_data` favours (any other non-empty key may appear)."""

_BASE = "http://localhost:8080/api/v2"
_ADDRESSES = ("customer@example.com", "support@example.com", "billing@example.com")
_SUBJECTS = ("Order 1234", "Where is my refund?", "Invoice", "Password reset")
_TEXTS = ("Hello,", "Thank you for your message.", "Please find the invoice attached.")
_DISPOSITIONS = ("Resolved", "Escalated", "NoAnswerNeeded")
_MIMES = ("text/plain", "text/html", "application/pdf")


# ---------------------------------------------------------------- vocabularies


# Strategies are built once and reused: building them is what costs time.
@cache
def _sampled(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(names)


def agents(names: Sequence[str] = AGENTS) -> st.SearchStrategy[str]:
    """An agent id from ``names``."""
    return _sampled(tuple(names))


def queues(names: Sequence[str] = QUEUES) -> st.SearchStrategy[str]:
    """A queue name from ``names``."""
    return _sampled(tuple(names))


def _texts(realistic: Sequence[str], max_size: int = 30) -> st.SearchStrategy[str]:
    """Mostly realistic values, sometimes any non-empty text."""
    return _realistic_texts(tuple(realistic), max_size)


@cache
def _realistic_texts(realistic: tuple[str, ...], max_size: int) -> st.SearchStrategy[str]:
    return st.sampled_from(realistic) | st.text(min_size=1, max_size=max_size)


def _scalars() -> st.SearchStrategy[JsonValue]:
    return (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )


@cache
def json_values(max_leaves: int = 10) -> st.SearchStrategy[JsonValue]:
    """Any JSON value: null, booleans, numbers, strings, lists and objects, nested."""
    return st.recursive(
        _scalars(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=max_leaves,
    )


def user_data(*, min_size: int = 0, max_size: int = 3) -> st.SearchStrategy[dict[str, JsonValue]]:
    """userData pairs, ``min_size`` to ``max_size`` of them: mostly the well-known keys of
    :data:`USER_DATA_KEYS` with values of their usual type (``VIP`` a boolean), sometimes
    any non-empty key with any JSON value."""
    return _user_data(min_size, max_size)


@cache
def _user_data(min_size: int, max_size: int) -> st.SearchStrategy[dict[str, JsonValue]]:
    known: dict[str, st.SearchStrategy[JsonValue]] = {
        "VIP": st.booleans(),
        "Language": st.sampled_from(("en", "fr", "de")),
        "Priority": st.integers(0, 10),
        "Segment": st.sampled_from(("gold", "silver", "bronze")),
        "ContactId": st.sampled_from(("C1", "C2")),
    }
    pairs = st.tuples(
        st.fixed_dictionaries({}, optional=known),
        st.dictionaries(st.text(min_size=1, max_size=12), json_values(max_leaves=3), max_size=1),
    )

    def merge(drawn: tuple[dict[str, JsonValue], dict[str, JsonValue]]) -> dict[str, JsonValue]:
        merged = {**drawn[1], **drawn[0]}
        return dict(list(merged.items())[:max_size])

    return pairs.map(merge).filter(lambda d: len(d) >= min_size)


# ---------------------------------------------------------- the table's graph

_Node: TypeAlias = tuple[Direction, Phase]
_Edge: TypeAlias = tuple[Trigger, Branch, _Node]


def _graph() -> dict[_Node, tuple[_Edge, ...]]:
    """The lifecycle table as a graph over (direction, phase): an email's direction
    decides the Accept branch, every other branch is the caller's choice."""
    graph: dict[_Node, list[_Edge]] = {(d, p): [] for d in Direction for p in Phase}
    for row in TABLE:
        if row.source is None:
            continue
        for direction in Direction:
            for edge in row.edges:
                if edge.branch is Branch.INBOUND and direction is not Direction.INBOUND:
                    continue
                if edge.branch is Branch.OUTBOUND and direction is not Direction.OUTBOUND:
                    continue
                graph[(direction, row.source)].append(
                    (row.trigger, edge.branch, (direction, edge.target))
                )
    return {node: tuple(edges) for node, edges in graph.items()}


_GRAPH = _graph()
_ORIGINS: Mapping[Direction, Phase] = {
    Direction.INBOUND: next(r.edges[0].target for r in TABLE if r.trigger is SystemEvent.ARRIVE),
    Direction.OUTBOUND: next(r.edges[0].target for r in TABLE if r.trigger is Operation.CREATE),
}


def _distances(targets: Collection[Phase]) -> dict[_Node, int]:
    """Steps from each node to the nearest node whose phase is in ``targets``."""
    reverse: dict[_Node, list[_Node]] = {node: [] for node in _GRAPH}
    for node, edges in _GRAPH.items():
        for _, _, nxt in edges:
            reverse[nxt].append(node)
    dist = {node: 0 for node in _GRAPH if node[1] in targets}
    todo = deque(dist)
    while todo:
        node = todo.popleft()
        for prev in reverse[node]:
            if prev not in dist:
                dist[prev] = dist[node] + 1
                todo.append(prev)
    return dist


# ------------------------------------------------------------- request bodies


@dataclass(frozen=True, slots=True)
class _Pools:
    agents: tuple[str, ...]
    queues: tuple[str, ...]
    config: Config

    def __post_init__(self) -> None:
        if len(self.agents) < 2 or not self.queues:
            raise ValueError("need at least two agents and one queue")


def _user_uri(agent: str) -> str:
    return f"{_BASE}/users/{agent}"


def _queue_uri(queue: str) -> str:
    return f"{_BASE}/queues/{queue}"


def _growing_keys(email: Email, config: Config) -> int:
    """How many new userData keys ``email`` can still take."""
    return config.limits.max_user_data_keys - len(email.user_data)


def _reply_room(email: Email, config: Config) -> int:
    contact = 1 if email.content.contact_id is not None else 0
    return config.limits.max_user_data_keys - contact


def _feasible(op: Trigger, branch: Branch, email: Email, pools: _Pools) -> bool:
    """Can a valid body for ``op`` on ``branch`` be built for ``email`` now?"""
    limits = pools.config.limits
    match op:
        case Operation.REMOVE_ATTACHMENT:
            return bool(email.attachments)
        case Operation.ADD_ATTACHMENT:
            return len(email.attachments) < limits.max_attachments
        case Operation.REPLY | Operation.REPLY_ALL:
            return _reply_room(email, pools.config) >= 0
        case Operation.ATTACH_USER_DATA | Operation.UPDATE_USER_DATA | Operation.SET_DISPOSITION:
            return _growing_keys(email, pools.config) > 0 or bool(email.user_data)
        case Operation.TRANSFER:
            return branch is not Branch.TO_AGENT or len(pools.agents) > 1
    return True


def _new_user_data(draw: st.DrawFn, email: Email, config: Config) -> dict[str, JsonValue]:
    room = _growing_keys(email, config)
    data = draw(user_data(min_size=1))
    if len({**email.user_data, **data}) <= config.limits.max_user_data_keys:
        return data
    if room > 0:  # one pair adds at most one key
        return dict(list(data.items())[:1])
    key = draw(st.sampled_from(sorted(email.user_data)))
    return {key: draw(_texts(("gold",)))}


def _email_object(draw: st.DrawFn, *, need_to: bool) -> Body:
    obj: Body = {}
    if need_to or draw(st.booleans()):
        obj["to"] = list(draw(st.lists(_texts(_ADDRESSES), min_size=1, max_size=2)))
    if draw(st.booleans()):
        obj["subject"] = draw(_texts(_SUBJECTS))
    if draw(st.booleans()):
        obj["bodyAsPlainText"] = draw(_texts(_TEXTS))
    if not obj or draw(st.booleans()):
        obj["body"] = draw(_texts(_TEXTS))
    if draw(st.booleans()):
        obj["cc"] = list(draw(st.lists(_texts(_ADDRESSES), max_size=2)))
    return obj


def _reply_parameters(draw: st.DrawFn, body: Body, email: Email, pools: _Pools) -> None:
    queue = draw(st.none() | queues(pools.queues))
    if queue is not None:
        if draw(st.booleans()):
            body["queueUri"] = _queue_uri(queue)
        else:
            body["queueName"] = queue
    if draw(st.booleans()):
        body["quoteOriginal"] = True
        body["replyToStartLine"] = "On Monday, you wrote:"
    else:
        body["bodyAsPlainText"] = draw(_texts(_TEXTS))
    extra = draw(user_data(max_size=min(2, _reply_room(email, pools.config))))
    if extra:
        body["userData"] = extra


def _disposition_parameters(draw: st.DrawFn, body: Body, email: Email, pools: _Pools) -> None:
    body["disposition"] = draw(_texts(_DISPOSITIONS))
    has_room = _growing_keys(email, pools.config) > 0
    if not has_room and pools.config.disposition_key not in email.user_data:
        body["dispositionKey"] = draw(st.sampled_from(sorted(email.user_data)))
    elif has_room and draw(st.booleans()):
        body["dispositionKey"] = draw(_texts(("Outcome",), max_size=12))


def _body(
    draw: st.DrawFn, op: Operation, branch: Branch, email: Email, agent: str, pools: _Pools
) -> Body:
    """A valid body for ``op`` by ``agent`` on ``email``, taking ``branch``."""
    body: Body = {"operationName": str(op)}
    match op:
        case Operation.ACCEPT | Operation.COMPLETE | Operation.SEND:
            if draw(st.booleans()):
                body["saveLAR"] = draw(st.booleans())
    match op:
        case Operation.TRANSFER if branch is Branch.TO_AGENT:
            target = draw(agents([a for a in pools.agents if a != agent]))
            key = draw(st.sampled_from(("userUri", "userUri", "targetUri")))
            body[key] = _user_uri(target)
        case Operation.TRANSFER:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.COMPLETE if branch is Branch.TO_QUEUE:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.REPLY | Operation.REPLY_ALL:
            _reply_parameters(draw, body, email, pools)
        case Operation.SAVE:
            body["email"] = _email_object(draw, need_to=False)
        case Operation.SEND:
            body["queueName"] = draw(queues(pools.queues))
            if not email.content.to or draw(st.booleans()):
                body["email"] = _email_object(draw, need_to=not email.content.to)
        case Operation.ADD_ATTACHMENT:
            taken = {a.id for a in email.attachments}
            number = draw(st.integers(1, 99).filter(lambda n: f"doc-{n}" not in taken))
            body["documentId"] = f"doc-{number}"
            if draw(st.booleans()):
                body["name"] = draw(_texts(("invoice.pdf", "photo.png")))
                body["size"] = draw(st.integers(0, 10**7))
                body["mime"] = draw(st.sampled_from(_MIMES))
        case Operation.REMOVE_ATTACHMENT:
            body["documentId"] = draw(st.sampled_from([a.id for a in email.attachments]))
        case Operation.ATTACH_USER_DATA | Operation.UPDATE_USER_DATA:
            body["userData"] = _new_user_data(draw, email, pools.config)
        case Operation.DELETE_USER_DATA:
            keys: list[JsonValue] = list(
                draw(st.lists(st.sampled_from(sorted(email.user_data) or USER_DATA_KEYS)))
                or USER_DATA_KEYS[:1]
            )
            if draw(st.booleans()):
                body["keys"] = keys
            else:
                body["userData"] = {str(key): "" for key in keys}
        case Operation.SET_DISPOSITION:
            _disposition_parameters(draw, body, email, pools)
        case Operation.ADD_COMMENT:
            body["comment"] = draw(_texts(("Customer called back", "Waiting for billing")))
    return body


def _operation_edges(email: Email, pools: _Pools) -> list[tuple[Operation, Branch, bool]]:
    """The (operation, branch, moves) the holder of ``email`` can take now; ``moves``:
    the email changes phase."""
    node = (email.direction, email.phase)
    return [
        (trigger, branch, target != node)
        for trigger, branch, target in _GRAPH[node]
        if isinstance(trigger, Operation) and _feasible(trigger, branch, email, pools)
    ]


@st.composite
def _requests(draw: st.DrawFn, email: Email, agent: str, pools: _Pools) -> Body:
    options = _operation_edges(email, pools)
    assert {op for op, _, _ in options} <= set(permissions(email, agent).allowed)
    # Half the time a move: otherwise the many property operations would keep emails
    # in the same phase for most of a run.
    moving = draw(st.booleans())
    chosen = [o for o in options if o[2] is moving] or options
    op, branch, _ = draw(st.sampled_from(chosen))
    return _body(draw, op, branch, email, agent, pools)


def requests(
    email: Email,
    agent: str,
    *,
    agent_names: Sequence[str] = AGENTS,
    queue_names: Sequence[str] = QUEUES,
    config: Config = DEFAULT_CONFIG,
) -> st.SearchStrategy[Body]:
    """Valid GWS request bodies ``agent`` may send about ``email`` now.

    Half of them, where the phase allows, change the email's phase (Accept, Reject,
    Transfer, Complete, Send, Cancel); the others keep it (the property operations).

    Only operations of :func:`~email_fsm.permissions` ``(email, agent).allowed``: when
    ``agent`` is not the holder that is nothing, and the strategy is
    ``hypothesis.strategies.nothing()``. Without policies, every body is accepted by
    :func:`~email_fsm.handle_request` under ``config``, given a free ``new_email_id`` for
    Reply and ReplyAll. Transfer targets come from ``agent_names``, queues from
    ``queue_names``.
    """
    if agent != email.holder:
        return st.nothing()
    return _requests(email, agent, _Pools(tuple(agent_names), tuple(queue_names), config))


@st.composite
def _create_requests(draw: st.DrawFn, pools: _Pools) -> Body:
    body: Body = {"operationName": str(Operation.CREATE)}
    queue = draw(st.none() | queues(pools.queues))
    if queue is not None:
        body["queueName"] = queue
    data = draw(user_data(max_size=min(2, pools.config.limits.max_user_data_keys)))
    if data:
        body["userData"] = data
    return body


def create_requests(
    *, queue_names: Sequence[str] = QUEUES, config: Config = DEFAULT_CONFIG
) -> st.SearchStrategy[Body]:
    """Valid Create bodies (sent with a free ``new_email_id``)."""
    return _create_requests(_Pools(AGENTS, tuple(queue_names), config))


_PARAMETERS = (
    "saveLAR",
    "userUri",
    "targetUri",
    "queueName",
    "queueUri",
    "body",
    "bodyAsPlainText",
    "mime",
    "userData",
    "subjectPrefix",
    "replyToStartLine",
    "quoteOriginal",
    "indentCharacter",
    "parentId",
    "email",
    "documentId",
    "name",
    "size",
    "keys",
    "disposition",
    "dispositionKey",
    "comment",
)


@cache
def _json_requests() -> st.SearchStrategy[JsonValue]:
    """Request bodies as JSON values: mostly GWS-shaped objects with wrong, missing or
    unknown parameters, sometimes any JSON value."""
    names: st.SearchStrategy[JsonValue] = st.sampled_from([str(op) for op in Operation]) | (
        json_values(max_leaves=2)
    )
    values = (
        json_values(max_leaves=5)
        | _texts((_user_uri("bob"), _queue_uri("vip"), "http://x", "bob", "vip"))
        | st.lists(_texts(_ADDRESSES), max_size=2)
    )
    parameters = st.dictionaries(
        st.sampled_from(_PARAMETERS) | st.text(max_size=10), values, max_size=4
    )
    shaped: st.SearchStrategy[JsonValue] = st.builds(
        lambda name, rest: {**rest, "operationName": name}, names, parameters
    )
    unnamed = cast(
        "st.SearchStrategy[JsonValue]", parameters.filter(lambda d: "operationName" not in d)
    )
    return shaped | unnamed | json_values()


@cache
def arbitrary_requests() -> st.SearchStrategy[object]:
    """Anything a client could POST: mostly GWS-shaped bodies with wrong, missing or
    unknown parameters; also any JSON value, that as JSON text or UTF-8 bytes, any text
    and any bytes."""
    as_json = _json_requests()
    return (
        as_json
        | as_json.map(json.dumps)
        | as_json.map(lambda v: json.dumps(v).encode())
        | st.text(max_size=40)
        | st.binary(max_size=40)
    )


# ------------------------------------------------------------ reachable emails


@dataclass(frozen=True, slots=True)
class Reached:
    """An email in a reachable state, with the history that built it.

    ``emails`` is every email the history created (a Reply creates a second one);
    ``steps`` the history: system commands and :class:`~email_fsm.scenario.AgentStep`
    requests, every one of them accepted.
    """

    email: Email
    emails: Mapping[str, Email]
    steps: tuple[Step, ...]


class _Walk:
    """A history being built, one accepted step at a time (pure: decide, then store)."""

    def __init__(self, pools: _Pools, focus: str) -> None:
        self.pools = pools
        self.focus = focus
        self.emails: dict[str, Email] = {}
        self.steps: list[Step] = []
        self._ids = 0

    def new_id(self) -> str:
        self._ids += 1
        return f"{self.focus}-{self._ids}"

    def run(self, step: Step) -> None:
        if isinstance(step, AgentStep):
            decision = handle_request(
                self.emails,
                step.request,
                actor=step.agent,
                email_id=step.email_id,
                new_email_id=step.new_email_id,
                reference_id=step.reference_id,
                config=self.pools.config,
            )
        else:
            decision = decide(self.emails, step, config=self.pools.config)
        if not isinstance(decision, Accepted):  # a bug of this module, not of the user
            raise AssertionError(f"generated step {step!r} was refused: {decision.message}")
        self.emails.update((e.id, e) for e in decision.emails)
        self.steps.append(step)

    def take(self, draw: st.DrawFn, trigger: Trigger, branch: Branch) -> None:
        email = self.emails[self.focus]
        if trigger is SystemEvent.OFFER:
            self.run(Offer(email_id=email.id, agent=draw(agents(self.pools.agents))))
        elif trigger is SystemEvent.REVOKE:
            self.run(Revoke(email_id=email.id))
        else:
            assert isinstance(trigger, Operation)
            assert email.holder is not None
            body = _body(draw, trigger, branch, email, email.holder, self.pools)
            self.run(AgentStep(email.holder, body, email_id=email.id, new_email_id=self.new_id()))


@st.composite
def _arrival(draw: st.DrawFn, email_id: str, pools: _Pools) -> Arrive:
    limit = min(3, pools.config.limits.max_user_data_keys)
    return Arrive(
        email_id=email_id,
        queue=draw(queues(pools.queues)),
        from_=draw(st.sampled_from(_ADDRESSES[:1]) | st.none()),
        to=tuple(draw(st.lists(st.sampled_from(_ADDRESSES[1:]), max_size=2))),
        cc=tuple(draw(st.lists(st.sampled_from(_ADDRESSES), max_size=1))),
        subject=draw(st.none() | _texts(_SUBJECTS)),
        body_as_plain_text=draw(st.none() | _texts(_TEXTS)),
        contact_id=draw(st.none() | st.sampled_from(("C1", "C2"))),
        received_date="2026-01-05 10:00:00.000+0000",
        user_data=draw(user_data(max_size=limit)),
    )


def _starts(targets: frozenset[Phase], directions: frozenset[Direction]) -> list[Direction]:
    dist = _distances(targets)
    starts = sorted(d for d in directions if (d, _ORIGINS[d]) in dist)
    if not starts:
        raise ValueError(f"no {sorted(directions)} email can reach {sorted(targets)}")
    return starts


@st.composite
def _reachable(
    draw: st.DrawFn,
    targets: frozenset[Phase],
    directions: frozenset[Direction],
    max_steps: int,
    pools: _Pools,
) -> Reached:
    dist = _distances(targets)
    direction = draw(st.sampled_from(_starts(targets, directions)))
    walk = _Walk(pools, "E1")
    if direction is Direction.INBOUND:
        walk.run(draw(_arrival("E1", pools)))
    elif draw(st.booleans()):
        body = draw(_create_requests(pools))
        walk.run(AgentStep(draw(agents(pools.agents)), body, new_email_id="E1"))
    else:  # a reply to an inbound email: the draft then has real content
        walk.run(draw(_arrival("E0", pools)))
        walk.run(Offer(email_id="E0", agent=draw(agents(pools.agents))))
        inbound = walk.emails["E0"]
        walk.run(AgentStep(inbound.invitee or "", {"operationName": "Accept"}, email_id="E0"))
        op = draw(st.sampled_from(("Reply", "ReplyAll")))
        owner = walk.emails["E0"].owner or ""
        walk.run(AgentStep(owner, {"operationName": op}, email_id="E0", new_email_id="E1"))

    def moves(email: Email) -> list[tuple[Trigger, Branch, _Node]]:
        return [
            (trigger, branch, nxt)
            for trigger, branch, nxt in _GRAPH[(email.direction, email.phase)]
            if nxt in dist
            and (not isinstance(trigger, Operation) or _feasible(trigger, branch, email, pools))
        ]

    for _ in range(draw(st.integers(0, max_steps))):
        options = moves(walk.emails["E1"])
        if not options:
            break
        trigger, branch, _ = draw(st.sampled_from(options))
        walk.take(draw, trigger, branch)
    # Steer along a shortest path into a target phase.
    while walk.emails["E1"].phase not in targets:
        options = moves(walk.emails["E1"])
        best = min(dist[nxt] for _, _, nxt in options)
        trigger, branch, _ = next(o for o in options if dist[o[2]] == best)
        walk.take(draw, trigger, branch)
    return Reached(walk.emails["E1"], dict(walk.emails), tuple(walk.steps))


def reachable(
    *,
    phases: Collection[Phase] = tuple(Phase),
    directions: Collection[Direction] = tuple(Direction),
    max_steps: int = 8,
    agent_names: Sequence[str] = AGENTS,
    queue_names: Sequence[str] = QUEUES,
    config: Config = DEFAULT_CONFIG,
) -> st.SearchStrategy[Reached]:
    """An email in one of ``phases``, reached by a valid history of up to about
    ``max_steps`` random steps (then the shortest way into ``phases``).

    Raises ``ValueError`` when no email of ``directions`` can reach ``phases`` (an
    inbound email is never Composing, say).
    """
    pools = _Pools(tuple(agent_names), tuple(queue_names), config)
    _starts(frozenset(phases), frozenset(directions))
    return _reachable(frozenset(phases), frozenset(directions), max_steps, pools)


def emails(
    *,
    phases: Collection[Phase] = tuple(Phase),
    directions: Collection[Direction] = tuple(Direction),
    max_steps: int = 8,
    agent_names: Sequence[str] = AGENTS,
    queue_names: Sequence[str] = QUEUES,
    config: Config = DEFAULT_CONFIG,
) -> st.SearchStrategy[Email]:
    """Emails in any reachable state within ``phases`` (see :func:`reachable`)."""
    return reachable(
        phases=phases,
        directions=directions,
        max_steps=max_steps,
        agent_names=agent_names,
        queue_names=queue_names,
        config=config,
    ).map(lambda reached: reached.email)


# ------------------------------------------------------------------- scenarios


def _command_document(step: SystemCommand) -> dict[str, JsonValue]:
    if isinstance(step, Offer):
        return {"event": "Offer", "emailId": step.email_id, "agent": step.agent}
    if isinstance(step, Revoke):
        return {"event": "Revoke", "emailId": step.email_id}
    content: dict[str, JsonValue] = {"to": list(step.to), "cc": list(step.cc)}
    optional: dict[str, str | None] = {
        "from": step.from_,
        "subject": step.subject,
        "body": step.body,
        "bodyAsPlainText": step.body_as_plain_text,
        "mime": step.mime,
        "contactId": step.contact_id,
    }
    content.update((k, v) for k, v in optional.items() if v is not None)
    content["userData"] = dict(step.user_data)
    document: dict[str, JsonValue] = {
        "event": "Arrive",
        "emailId": step.email_id,
        "queueName": step.queue,
        "email": content,
    }
    if step.received_date is not None:
        document["receivedDate"] = step.received_date
    return document


def scenario_document(
    steps: Sequence[Step], *, base_url: str | None = None
) -> dict[str, JsonValue]:
    """The scenario JSON object (as ``email-fsm replay`` reads it) for ``steps``.

    Agent requests must be JSON values or JSON text (which the file holds as the value
    it encodes, as :func:`~email_fsm.scenario.load_scenario` reads it back); other text
    raises ``ValueError``.

    >>> from email_fsm import Offer
    >>> scenario_document([Offer(email_id="E1", agent="a")])
    {'steps': [{'event': 'Offer', 'emailId': 'E1', 'agent': 'a'}]}
    """
    documents: list[JsonValue] = []
    for step in steps:
        if isinstance(step, AgentStep):
            document: dict[str, JsonValue] = {"agent": step.agent}
            if step.email_id is not None:
                document["emailId"] = step.email_id
            if step.new_email_id is not None:
                document["newEmailId"] = step.new_email_id
            if step.reference_id is not None:
                document["referenceId"] = step.reference_id
            request = step.request
            if isinstance(request, (str, bytes)):
                request = json.loads(request)
            document["request"] = request  # type: ignore[assignment]
            documents.append(document)
        else:
            documents.append(_command_document(step))
    result: dict[str, JsonValue] = {} if base_url is None else {"baseUrl": base_url}
    result["steps"] = documents
    return result


@st.composite
def _scenario_steps(draw: st.DrawFn, max_steps: int, noise: bool, pools: _Pools) -> list[Step]:
    center = ContactCenter(config=pools.config)
    steps: list[Step] = []
    count = 0

    def fresh() -> str:
        nonlocal count
        count += 1
        return f"E{count}"

    kinds = ["arrive", "create", "offer", "revoke", "holder", "holder", "holder"]
    if noise:
        kinds += ["any request", "any event"]
    for _ in range(draw(st.integers(0, max_steps))):
        live = center.emails
        queued = sorted(k for k, e in live.items() if e.phase is Phase.QUEUED)
        invited = sorted(k for k, e in live.items() if e.phase is Phase.INVITED)
        held = sorted(k for k, e in live.items() if e.holder is not None)
        kind = draw(st.sampled_from(kinds))
        step: Step
        if kind == "offer" and queued:
            step = Offer(email_id=draw(st.sampled_from(queued)), agent=draw(agents(pools.agents)))
        elif kind == "revoke" and invited:
            step = Revoke(email_id=draw(st.sampled_from(invited)))
        elif kind == "holder" and held:
            email = live[draw(st.sampled_from(held))]
            assert email.holder is not None
            body = draw(_requests(email, email.holder, pools))
            step = AgentStep(email.holder, body, email_id=email.id, new_email_id=fresh())
        elif kind == "create":
            body = draw(_create_requests(pools))
            step = AgentStep(draw(agents(pools.agents)), body, new_email_id=fresh())
        elif kind == "any request":
            value = draw(_json_requests())
            # As the scenario loader reads it: a JSON string in the file is a string body.
            request = json.dumps(value) if isinstance(value, str) else value
            target = draw(st.sampled_from([*sorted(live), "missing"]))
            step = AgentStep(
                draw(agents(pools.agents)),
                request,
                email_id=target,
                new_email_id=fresh(),
                reference_id=draw(st.none() | st.integers(0, 1000)),
            )
        elif kind == "any event":
            target = draw(st.sampled_from([*sorted(live), "missing"]))
            event = draw(st.sampled_from(("Offer", "Revoke")))
            step = (
                Offer(email_id=target, agent=draw(agents(pools.agents)))
                if event == "Offer"
                else Revoke(email_id=target)
            )
        else:
            step = draw(_arrival(fresh(), pools))
        if isinstance(step, AgentStep):
            center.request(
                step.agent,
                step.request,
                email_id=step.email_id,
                new_email_id=step.new_email_id,
                reference_id=step.reference_id,
            )
        else:
            center.execute(step)
        steps.append(step)
    return steps


def scenarios(
    *,
    max_steps: int = 20,
    noise: bool = True,
    agent_names: Sequence[str] = AGENTS,
    queue_names: Sequence[str] = QUEUES,
    config: Config = DEFAULT_CONFIG,
) -> st.SearchStrategy[dict[str, JsonValue]]:
    """Scenario documents: arrivals, offers, revocations, Create and holders' requests
    (valid bodies); with ``noise``, also malformed requests and events from anybody about
    any email, existing or not. ``json.dumps`` one to get a file ``email-fsm replay``
    runs."""
    pools = _Pools(tuple(agent_names), tuple(queue_names), config)
    return _scenario_steps(max_steps, noise, pools).map(scenario_document)


# ------------------------------------------------------------------ invariants


def check_ownership(email: Email) -> None:
    """Raise ``AssertionError`` unless ``email`` keeps SPEC.md §2's ownership rules.

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
    checked after every step (see the module docstring for the list).

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
        body = data.draw(_requests(email, email.holder, self.pools))
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
                agent, data.draw(_requests(email, email.holder, self.pools)), email_id=email_id
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
        """SPEC.md §2 holds for every email."""
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
