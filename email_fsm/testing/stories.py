"""Whole scenario documents: the stories of several emails, as ``email-fsm replay`` reads
them.

A scenario is drawn by running a :class:`~email_fsm.ContactCenter` as it is written, so
that its offers, revocations and holders' requests are about emails that exist and are
in the right phase; with ``noise``, malformed requests and misplaced events from anybody
join in. :func:`email_fsm.scenario.scenario_document` writes the drawn steps out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import Config, ContactCenter, Offer, Phase, Revoke
from email_fsm.scenario import AgentStep, Step, scenario_document

from .bodies import _create_requests, _json_requests, _request_bodies
from .histories import _arrival
from .vocab import Vocabulary, _Pools, agents

__all__ = ["scenarios"]


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
            body = draw(_request_bodies(email, email.holder, pools))
            step = AgentStep(email.holder, body, email_id=email.id, new_email_id=fresh())
        elif kind == "create":
            body = draw(_create_requests(pools))
            step = AgentStep(draw(agents(pools.agents)), body, new_email_id=fresh())
        elif kind == "any request":
            value = draw(_json_requests(pools))
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
    vocabulary: Vocabulary | None = None,
    agent_names: Sequence[str] | None = None,
    queue_names: Sequence[str] | None = None,
    config: Config | None = None,
) -> st.SearchStrategy[dict[str, JsonValue]]:
    """Scenario documents: arrivals, offers, revocations, Create and holders' requests
    (valid bodies); with ``noise``, also malformed requests and events from anybody about
    any email, existing or not. ``json.dumps`` one to get a file ``email-fsm replay``
    runs. Emails and requests draw from ``vocabulary`` (see
    :class:`~email_fsm.testing.Vocabulary`; the other arguments override its fields)."""
    pools = _Pools.of(vocabulary, agent_names, queue_names, config)
    return _scenario_steps(max_steps, noise, pools).map(scenario_document)
