"""The same contact center as a bare SimPy model: plain objects, no email_fsm.

One queue with Poisson arrivals, ``agents`` agents of capacity one, the oldest queued
email offered to the longest-idle agent who never rejected it; an invitation is
rejected with ``reject`` probability (the email goes back to the end of the queue),
otherwise accepted at once; the email is handled for an exponential time, then the
agent replies (a reply object, sent) with ``reply`` probability, sets a disposition and
completes it. The waits are tallied as the simulator tallies them (answered within the
goal). The random streams are seeded as the simulator seeds its own (arrivals, agent
behaviour), and draw the same distributions, so both simulate the same process with
the same work per email (the simulator draws its arrivals hour by hour, so the counts
differ a little).
"""

from __future__ import annotations

import random
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

__all__ = ["BareResult", "Email", "simulate_bare"]

_HOUR = 3600.0


@dataclass(slots=True)
class Email:
    """An email's state as a plain object."""

    id: str
    arrived: float
    state: str = "Queued"
    owner: str | None = None
    rejected_by: set[str] = field(default_factory=set)
    user_data: dict[str, str] = field(default_factory=dict)
    replies: list[Email] = field(default_factory=list)
    accepted: bool = False


@dataclass(frozen=True, slots=True)
class BareResult:
    arrived: int
    answered: int
    within: int
    completed: int


class _Model:
    def __init__(
        self, *, rate_per_hour: float, agents: int, mean_minutes: float, reject: float,
        reply: float, goal_hours: float, hours: float, seed: int, name: str,
    ) -> None:  # fmt: skip
        self.env = simpy.Environment()
        self.rate = rate_per_hour / _HOUR
        self.mean = mean_minutes * 60.0
        self.reject = reject
        self.reply = reply
        self.goal = goal_hours * _HOUR
        self.end = hours * _HOUR
        self.arrival_rng = random.Random(f"{seed}/arrivals/q")
        self.agent_rng = random.Random(f"{seed}/agents/{name}")
        self.emails: dict[str, Email] = {}
        self.queue: dict[str, float] = {}  # id -> time it became queued, oldest first
        self.free: dict[str, None] = {f"{name}.{n}": None for n in range(1, agents + 1)}
        self.arrived = self.answered = self.within = self.completed = 0

    def arrivals(self) -> Generator[simpy.Event, Any, None]:
        env, rng = self.env, self.arrival_rng
        while True:
            t = env.now + rng.expovariate(self.rate)
            if t >= self.end:
                return
            yield env.timeout(t - env.now)
            self.arrived += 1
            email = Email(id=f"E{self.arrived}", arrived=env.now)
            self.emails[email.id] = email
            self.queue[email.id] = env.now
            self.dispatch()

    def dispatch(self) -> None:
        while self.queue and self.free:
            chosen: tuple[str, str] | None = None
            for email_id in self.queue:
                rejected = self.emails[email_id].rejected_by
                agent = next((a for a in self.free if a not in rejected), None)
                if agent is not None:
                    chosen = (email_id, agent)
                    break
            if chosen is None:
                return
            email_id, agent = chosen
            del self.queue[email_id]
            del self.free[agent]
            self.invite(self.emails[email_id], agent)

    def invite(self, email: Email, agent: str) -> None:
        email.state = "Invited"
        if self.agent_rng.random() < self.reject:
            email.rejected_by.add(agent)
            email.state = "Queued"
            self.queue[email.id] = self.env.now
            self.free[agent] = None
            return
        email.state, email.owner = "Processing", agent
        if not email.accepted:
            email.accepted = True
            self.answered += 1
            if self.env.now - email.arrived <= self.goal:
                self.within += 1
        self.env.process(self.work(email, agent))

    def work(self, email: Email, agent: str) -> Generator[simpy.Event, Any, None]:
        rng = self.agent_rng
        yield self.env.timeout(rng.expovariate(1.0 / self.mean))
        reply, _dispose, _outcome = rng.random(), rng.random(), rng.random()
        if reply < self.reply:
            draft = Email(id=f"R{email.id}", arrived=self.env.now, state="Draft", owner=agent)
            email.replies.append(draft)
            draft.state = "Sent"
        email.user_data["DispositionCode"] = "Resolved"
        email.state, email.owner = "Completed", None
        del self.emails[email.id]
        self.completed += 1
        self.free[agent] = None
        self.dispatch()


def simulate_bare(
    *, rate_per_hour: float, agents: int, mean_minutes: float, reject: float, reply: float,
    goal_hours: float, hours: float, seed: int, name: str = "team",
) -> BareResult:  # fmt: skip
    """Run the bare model; the counts it tallied."""
    model = _Model(
        rate_per_hour=rate_per_hour, agents=agents, mean_minutes=mean_minutes, reject=reject,
        reply=reply, goal_hours=goal_hours, hours=hours, seed=seed, name=name,
    )  # fmt: skip
    model.env.process(model.arrivals())
    model.env.run(until=model.end)
    return BareResult(model.arrived, model.answered, model.within, model.completed)
