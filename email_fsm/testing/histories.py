"""Emails in reachable states, with the valid histories that built them.

:func:`reachable` never assembles an email field by field: it runs a history of system
commands and GWS request bodies through :func:`~email_fsm.handle_request` and
:func:`~email_fsm.decide`, a few random steps and then the shortest way through the
lifecycle table into the phases asked for, so every email it returns is one the model
can produce. :func:`emails` keeps just the email.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from hypothesis import strategies as st

from email_fsm import (
    TABLE,
    Accepted,
    Arrive,
    Config,
    Direction,
    Email,
    Offer,
    Operation,
    Phase,
    Revoke,
    SystemEvent,
    Trigger,
    decide,
    handle_request,
)
from email_fsm.graph import distances
from email_fsm.scenario import AgentStep, Step
from email_fsm.table import Branch, EmailEdge, EmailNode

from .bodies import _GRAPH, _body, _create_requests, _feasible
from .vocab import Vocabulary, _Pools, agents, queues

__all__ = ["Reached", "emails", "reachable"]


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
        if not isinstance(decision, Accepted):  # a bug of these strategies, not of the model
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
        from_=draw(pools.addresses | st.none()),
        to=tuple(draw(st.lists(pools.addresses, max_size=2))),
        cc=tuple(draw(st.lists(pools.addresses, max_size=1))),
        subject=draw(st.none() | pools.subjects),
        body_as_plain_text=draw(st.none() | pools.texts),
        contact_id=draw(st.none() | st.sampled_from(("C1", "C2"))),
        received_date="2026-01-05 10:00:00.000+0000",
        user_data=draw(pools.user_data(max_size=limit)),
    )


_ORIGINS: Mapping[Direction, Phase] = {
    Direction.INBOUND: next(r.edges[0].target for r in TABLE if r.trigger is SystemEvent.ARRIVE),
    Direction.OUTBOUND: next(r.edges[0].target for r in TABLE if r.trigger is Operation.CREATE),
}
"""The phase an email of each direction is born in."""

_SUCCESSORS: Mapping[EmailNode, tuple[EmailNode, ...]] = {
    node: tuple(nxt for _, _, nxt in edges) for node, edges in _GRAPH.items()
}


@cache
def _distances(targets: frozenset[Phase]) -> Mapping[EmailNode, int]:
    """Steps from each node to the nearest node whose phase is in ``targets``."""
    return distances(_SUCCESSORS, [node for node in _SUCCESSORS if node[1] in targets])


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

    def moves(email: Email) -> list[EmailEdge]:
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
    vocabulary: Vocabulary | None = None,
    agent_names: Sequence[str] | None = None,
    queue_names: Sequence[str] | None = None,
    config: Config | None = None,
) -> st.SearchStrategy[Reached]:
    """An email in one of ``phases``, reached by a valid history of up to about
    ``max_steps`` random steps (then the shortest way into ``phases``).

    Arrivals, Create, Reply and the userData operations draw from ``vocabulary`` (see
    :class:`~email_fsm.testing.Vocabulary`; ``agent_names``, ``queue_names`` and
    ``config`` override its fields).

    Raises ``ValueError`` when no email of ``directions`` can reach ``phases`` (an
    inbound email is never Composing, say).
    """
    pools = _Pools.of(vocabulary, agent_names, queue_names, config)
    _starts(frozenset(phases), frozenset(directions))
    return _reachable(frozenset(phases), frozenset(directions), max_steps, pools)


def emails(
    *,
    phases: Collection[Phase] = tuple(Phase),
    directions: Collection[Direction] = tuple(Direction),
    max_steps: int = 8,
    vocabulary: Vocabulary | None = None,
    agent_names: Sequence[str] | None = None,
    queue_names: Sequence[str] | None = None,
    config: Config | None = None,
) -> st.SearchStrategy[Email]:
    """Emails in any reachable state within ``phases`` (see :func:`reachable`)."""
    return reachable(
        phases=phases,
        directions=directions,
        max_steps=max_steps,
        vocabulary=vocabulary,
        agent_names=agent_names,
        queue_names=queue_names,
        config=config,
    ).map(lambda reached: reached.email)
