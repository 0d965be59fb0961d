"""The simulation: SimPy owns simulated time, seeded randomness owns behaviour, the model
owns the rules.

:func:`simulate` runs a :class:`~email_fsm.sim.Scenario`. Every simulated action is a
command decided by an :class:`~email_fsm.EmailStore` that holds the scenario's
policies: emails arrive (``Arrive``), routing offers them (``Offer``) and withdraws
invitations nobody answered (``Revoke``), agents accept, reject, reply, save, send, set
dispositions, transfer and complete. A command the model or a business rule refuses is
counted, by status code and by policy, and the agent carries on (see
:class:`~email_fsm.sim.AgentGroup`).

SimPy processes: one per queue for its arrivals, one per agent group for its shifts,
one per held email for the agent's work, one per invitation that will time out, one for
the KPI intervals. Routing runs after each of them: the oldest queued email (in the
order emails became Queued, across queues) goes to the agent who has the skill and
room, who never rejected it, and who has been idle longest (the one whose load changed
least recently), or to the one a custom router picks.

Randomness: one ``random.Random`` per stream, seeded from the scenario's seed and the
stream's name — the arrivals (times and contents) of each queue, the behaviour of each
agent group — so that two scenarios that differ only in a policy or in staffing see the
same arrivals (common random numbers). The same scenario and seed give the same result,
bit for bit.

Memory stays flat: the store evicts each finished email (``evict_after``), the run keeps
one small record per unfinished email, and the KPIs are counters and streaming
histograms.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator
from typing import Any

import simpy

from ..commands import (
    Accept,
    Arrive,
    Cancel,
    Command,
    Complete,
    EmailFields,
    Offer,
    Reject,
    Reply,
    Revoke,
    Save,
    Send,
    SetDisposition,
    Transfer,
)
from ..decisions import Accepted, Decision, Refused
from ..email import Email
from ..store import EmailStore
from ..vocabulary import Phase
from .kpis import (
    CallCenterKpis,
    Histogram,
    IntervalRow,
    QueueKpis,
    SimulationResult,
)
from .scenario import AgentGroup, Empirical, Exponential, Queue, Router, Scenario, resolve

__all__ = ["Progress", "simulate"]

Progress = Callable[[float, float], None]
"""A progress callback: ``(simulated_hours_done, total_hours)``, called once per interval."""

_HOUR = 3600.0
_DAY = 24 * _HOUR
_DISPOSITION = "Resolved"
_MAX_COMPLETE_ATTEMPTS = 3
_ROUTING_LOOKAHEAD = 32  # queued emails examined per queue when the first are blocked

_Process = Generator[simpy.Event, Any, None]


class _CountedPolicy:
    """A policy that counts its refusals (the model's refusals carry the same prefix as
    a policy's, so the run asks the policies themselves)."""

    __slots__ = ("hits", "name", "policy")

    def __init__(self, name: str, policy: Callable[[Command, Email | None], Refused | None]):
        self.name = name
        self.policy = policy
        self.hits = 0

    def __call__(self, command: Command, email: Email | None, /) -> Refused | None:
        refused = self.policy(command, email)
        if refused is not None:
            self.hits += 1
        return refused


class _Stats:
    """The streaming tallies behind one :class:`QueueKpis`."""

    __slots__ = (
        "answered",
        "arrived",
        "completed",
        "missed",
        "rejections",
        "timeouts",
        "to_completion",
        "to_first_handling",
        "transfers",
        "within",
    )

    def __init__(self) -> None:
        self.arrived = self.answered = self.completed = 0
        self.within = self.missed = 0
        self.transfers = self.rejections = self.timeouts = 0
        self.to_first_handling = Histogram()
        self.to_completion = Histogram()

    def kpis(self, live: int) -> QueueKpis:
        known = self.within + self.missed
        per = self.arrived or math.nan
        return QueueKpis(
            arrived=self.arrived,
            answered=self.answered,
            completed=self.completed,
            answered_within_goal=self.within,
            service_level=self.within / known if known else math.nan,
            time_to_first_handling=self.to_first_handling.summary(),
            time_to_completion=self.to_completion.summary(),
            transfers=self.transfers,
            rejections=self.rejections,
            timeouts=self.timeouts,
            transfers_per_email=self.transfers / per,
            rejections_per_email=self.rejections / per,
            live_at_end=live,
        )


class _Track:
    """What the run remembers of one unfinished inbound email."""

    __slots__ = ("accepted", "arrived", "goal", "queue", "stats", "warm")

    def __init__(self, queue: int, arrived: float, goal: float, stats: tuple[_Stats, ...]):
        self.queue = queue
        self.arrived = arrived
        self.goal = goal
        self.stats = stats  # the queue's tallies and the overall ones; () in the warm-up
        self.warm = bool(stats)
        self.accepted = False


class _Group:
    """An agent group's behaviour, prepared for drawing."""

    def __init__(self, spec: AgentGroup, seed: int) -> None:
        self.spec = spec
        self.rng = random.Random(f"{seed}/agents/{spec.name}")
        self.reject = spec.reject_probability
        self.no_answer = spec.reject_probability + spec.timeout_probability
        self.delay = spec.accept_delay_seconds
        self.reply = spec.reply_probability
        self.disposition = spec.disposition_probability
        self.transfer = spec.transfer_probability
        self.to_queue = spec.transfer_probability + spec.complete_to_queue_probability
        self.rework = spec.rework_minutes * 60.0
        handle = spec.handle_time
        rng = self.rng
        if isinstance(handle, Exponential):
            rate = 1.0 / (handle.mean_minutes * 60.0)
            self.handle: Callable[[], float] = lambda: rng.expovariate(rate)
        elif isinstance(handle, Empirical):
            values = [v * 60.0 for v in handle.values_minutes]
            self.handle = lambda: rng.choice(values)
        else:
            mu, sigma = handle.mu_sigma()
            self.handle = lambda: rng.lognormvariate(mu, sigma) * 60.0


class _Agent:
    __slots__ = ("capacity", "group", "load", "name", "on", "skills")

    def __init__(self, name: str, group: _Group, skills: tuple[int, ...]) -> None:
        self.name = name
        self.group = group
        self.skills = skills
        self.capacity = group.spec.capacity
        self.load = 0  # emails held: invited to or owned
        self.on = False


class _Run:
    """One simulation run: the state shared by the SimPy processes."""

    def __init__(self, scenario: Scenario, seed: int, record: bool) -> None:
        self.scenario = scenario
        self.seed = seed
        self.env = simpy.Environment()
        self.counted = [_CountedPolicy(p.name, p.build()) for p in scenario.policies]
        self.store = EmailStore(policies=self.counted, record=record, evict_after=0.0)
        self.emails = self.store.emails
        self.end = scenario.duration_hours * _HOUR
        self.warmup = scenario.warmup_hours * _HOUR
        self.timeout = scenario.routing.offer_timeout_minutes * 60.0
        self.router: Router | None = (
            resolve(scenario.routing.router) if scenario.routing.router else None
        )
        self.queue_names = [q.name for q in scenario.queues]
        self.queue_index = {name: i for i, name in enumerate(self.queue_names)}
        # Routing's view of the queues: id -> time it became Queued, oldest first (kept
        # from the accepted decisions, so that routing never scans the store).
        self.waiting: list[dict[str, float]] = [{} for _ in self.queue_names]
        self.waiting_in: dict[str, int] = {}
        self.free: list[dict[str, _Agent]] = [{} for _ in self.queue_names]
        self.groups = [_Group(spec, seed) for spec in scenario.agent_groups]
        self.agents: dict[str, _Agent] = {}
        self.group_agents: list[list[_Agent]] = []
        for group in self.groups:
            skills = tuple(self.queue_index[s] for s in group.spec.skills)
            members = [
                _Agent(f"{group.spec.name}.{n}", group, skills)
                for n in range(1, group.spec.count + 1)
            ]
            self.group_agents.append(members)
            self.agents.update((a.name, a) for a in members)
        self.tracks: dict[str, _Track] = {}
        self.stats = [_Stats() for _ in self.queue_names]
        self.overall = _Stats()
        self.handle_times = Histogram()
        self.refusals: dict[int, int] = {}
        self.commands = 0
        self.most_live = 0
        self.arrivals = 0
        self.replies = 0
        # call-center figures
        self.threshold = scenario.call_center_threshold_seconds
        self.cc_answered = self.cc_waited = self.cc_within = 0
        self.cc_wait = 0.0
        # occupancy: busy (emails being handled) and capacity (logged-on agents), as areas
        self.busy = 0
        self.capacity = 0
        self.last = 0.0
        self.busy_area = self.capacity_area = 0.0
        self.i_busy_area = self.i_capacity_area = 0.0
        self.i_arrivals = self.i_completions = self.i_within = self.i_answered = 0

    # ------------------------------------------------------------ commands

    def do(self, command: Command) -> Decision:
        decision = self.store.execute(command, at=self.env.now)
        self.commands += 1
        if decision.__class__ is Accepted:
            waiting_in = self.waiting_in
            for email in decision.emails:
                email_id = email.id
                was = waiting_in.pop(email_id, None)
                if was is not None:
                    del self.waiting[was][email_id]
                if email.phase is Phase.QUEUED:
                    index = self.queue_index.get(email.queue)
                    if index is not None:
                        waiting_in[email_id] = index
                        self.waiting[index][email_id] = self.env.now
        else:
            code = int(decision.code)  # type: ignore[union-attr]
            self.refusals[code] = self.refusals.get(code, 0) + 1
        return decision

    # ------------------------------------------------------------ bookkeeping

    def integrate(self) -> None:
        now = self.env.now
        start = self.last if self.last > self.warmup else self.warmup
        if now > start:
            self.busy_area += self.busy * (now - start)
            self.capacity_area += self.capacity * (now - start)
        if now > self.last:
            self.i_busy_area += self.busy * (now - self.last)
            self.i_capacity_area += self.capacity * (now - self.last)
        self.last = now

    def availability(self, agent: _Agent) -> None:
        room = agent.on and agent.load < agent.capacity
        name = agent.name
        for q in agent.skills:
            free = self.free[q]
            free.pop(name, None)
            if room:
                free[name] = agent

    # ------------------------------------------------------------ routing

    def dispatch(self) -> None:
        emails = self.emails
        router = self.router
        blocked: set[int] = set()
        unofferable: set[str] = set()
        while True:
            best_id: str | None = None
            best_agent: _Agent | None = None
            best_t = math.inf
            for q, waiting in enumerate(self.waiting):
                free = self.free[q]
                if not waiting or not free or q in blocked:
                    continue
                for n, (email_id, t) in enumerate(waiting.items()):
                    if t >= best_t or n >= _ROUTING_LOOKAHEAD:
                        break
                    if email_id in unofferable:
                        continue
                    email = emails[email_id]
                    rejected = email.rejected_by
                    agent: _Agent | None = None
                    if router is not None:
                        candidates = tuple(a for a in free if a not in rejected)
                        if candidates:
                            chosen = router(email, candidates)
                            if chosen is None:
                                blocked.add(q)
                                break
                            if chosen not in candidates:
                                raise ValueError(
                                    f"the router chose {chosen!r}, not one of {candidates}"
                                )
                            agent = free[chosen]
                    elif not rejected:
                        agent = next(iter(free.values()))
                    else:
                        for name, candidate in free.items():
                            if name not in rejected:
                                agent = candidate
                                break
                    if agent is not None:
                        best_id, best_agent, best_t = email_id, agent, t
                        break
            if best_id is None or best_agent is None:
                return
            if self.do(Offer(email_id=best_id, agent=best_agent.name)).__class__ is Accepted:
                self.invited(best_id, best_agent)
            else:
                unofferable.add(best_id)

    def invited(self, email_id: str, agent: _Agent) -> None:
        """``agent`` is now invited to ``email_id`` (an offer, or a transfer to them)."""
        agent.load += 1
        self.availability(agent)
        group = agent.group
        u = group.rng.random()
        if u >= group.no_answer and group.delay < self.timeout:
            if group.delay == 0.0:
                self.accept(email_id, agent)
            else:
                self.env.process(self.answer_later(email_id, agent, accept=True))
        elif u < group.reject and group.delay < self.timeout:
            if group.delay == 0.0:
                self.reject(email_id, agent)
            else:
                self.env.process(self.answer_later(email_id, agent, accept=False))
        else:  # no answer, or one too late: the invitation times out
            self.env.process(self.expire(email_id, agent, self.emails[email_id].version))

    # ------------------------------------------------------------ processes

    def arrivals_of(self, index: int, queue: Queue) -> _Process:
        env = self.env
        rng = random.Random(f"{self.seed}/arrivals/{queue.name}")
        rates = [r / _HOUR for r in queue.rates()]
        peak = max(rates)
        if peak == 0.0:
            return
        subjects = (list(queue.subjects), _cumulative(queue.subjects.values()))
        user_data = [
            (key, list(choice.choices), _cumulative(choice.choices.values()))
            for key, choice in queue.user_data.items()
        ]
        goal = queue.service_goal_hours * _HOUR
        thinning = queue.arrival_method == "thinning"
        t = 0.0
        while True:
            if thinning:
                t += rng.expovariate(peak)
                if rng.random() * peak >= rates[int(t // _HOUR) % 24]:
                    continue
            else:
                while True:  # piecewise-constant: exact, hour by hour
                    hour_end = (math.floor(t / _HOUR) + 1) * _HOUR
                    rate = rates[int(t // _HOUR) % 24]
                    if rate > 0.0:
                        step = rng.expovariate(rate)
                        if t + step < hour_end:
                            t += step
                            break
                    t = hour_end
            if t >= self.end:
                return
            subject = rng.choices(subjects[0], cum_weights=subjects[1])[0] if subjects[0] else None
            data = {key: rng.choices(values, cum_weights=cw)[0] for key, values, cw in user_data}
            yield env.timeout(t - env.now)
            self.arrive(index, queue.name, subject, data, goal)
            self.dispatch()

    def arrive(
        self, index: int, queue: str, subject: str | None, data: dict[str, Any], goal: float
    ) -> None:
        self.arrivals += 1
        self.i_arrivals += 1
        email_id = f"E{self.arrivals}"
        decision = self.do(
            Arrive(
                email_id=email_id,
                queue=queue,
                from_=f"customer{self.arrivals}@example.com",
                to=("support@example.com",),
                subject=subject,
                user_data=data,
            )
        )
        if decision.__class__ is not Accepted:
            return
        now = self.env.now
        stats = (self.stats[index], self.overall) if now >= self.warmup else ()
        for s in stats:
            s.arrived += 1
        self.tracks[email_id] = _Track(index, now, goal, stats)

    def shifts_of(self, index: int) -> _Process:
        env = self.env
        spec = self.groups[index].spec
        members = self.group_agents[index]
        if not members:
            return
        day = 0.0
        while True:
            yield env.timeout(max(day + spec.shift.start * _HOUR - env.now, 0.0))
            self.integrate()
            for agent in members:
                agent.on = True
                self.capacity += agent.capacity
                self.availability(agent)
            self.dispatch()
            if spec.shift.end >= 24.0 and spec.shift.start == 0.0:
                return  # on all day, every day
            yield env.timeout(day + spec.shift.end * _HOUR - env.now)
            self.integrate()
            for agent in members:
                agent.on = False
                self.capacity -= agent.capacity
                self.availability(agent)
            day += _DAY

    def answer_later(self, email_id: str, agent: _Agent, *, accept: bool) -> _Process:
        yield self.env.timeout(agent.group.delay)
        if accept:
            self.accept(email_id, agent)
        else:
            self.reject(email_id, agent)
        self.dispatch()

    def expire(self, email_id: str, agent: _Agent, version: int) -> _Process:
        yield self.env.timeout(self.timeout)
        email = self.emails.get(email_id)
        if (
            email is not None
            and email.version == version
            and email.invitee == agent.name
            and self.do(Revoke(email_id=email_id)).__class__ is Accepted
        ):
            agent.load -= 1
            self.availability(agent)
            track = self.tracks.get(email_id)
            if track is not None:
                for s in track.stats:
                    s.timeouts += 1
        self.dispatch()

    def accept(self, email_id: str, agent: _Agent) -> None:
        if self.do(Accept(actor=agent.name, email_id=email_id)).__class__ is not Accepted:
            # a business rule keeps this agent from taking it: they give it back
            self.reject(email_id, agent)
            return
        now = self.env.now
        track = self.tracks.get(email_id)
        if track is not None and not track.accepted:
            track.accepted = True
            wait = now - track.arrived
            within = wait <= track.goal
            if track.warm:
                for s in track.stats:
                    s.answered += 1
                    s.to_first_handling.add(wait)
                    if within:
                        s.within += 1
                    else:
                        s.missed += 1
                self.cc_answered += 1
                self.cc_wait += wait
                if wait > 0.0:
                    self.cc_waited += 1
                if wait <= self.threshold:
                    self.cc_within += 1
            self.i_answered += 1
            if within:
                self.i_within += 1
        self.integrate()
        self.busy += 1
        self.env.process(self.work(email_id, agent))

    def reject(self, email_id: str, agent: _Agent) -> None:
        if self.do(Reject(actor=agent.name, email_id=email_id)).__class__ is Accepted:
            track = self.tracks.get(email_id)
            if track is not None:
                for s in track.stats:
                    s.rejections += 1
        elif self.do(Revoke(email_id=email_id)).__class__ is not Accepted:
            return  # held for good: the agent keeps the load
        agent.load -= 1
        self.availability(agent)

    def work(self, email_id: str, agent: _Agent) -> _Process:
        env = self.env
        group = agent.group
        rng = group.rng
        handle = group.handle()
        yield env.timeout(handle)
        track = self.tracks.get(email_id)
        if track is not None and track.warm:
            self.handle_times.add(handle)
        # the draws are made whatever happens, so that streams stay aligned
        reply, dispose, outcome = rng.random(), rng.random(), rng.random()
        if reply < group.reply:
            self.send_reply(email_id, agent)
        if dispose < group.disposition:
            self.do(SetDisposition(actor=agent.name, email_id=email_id, disposition=_DISPOSITION))
        done = False
        if outcome < group.transfer:
            done = self.transfer(email_id, agent)
            if not done:
                yield env.timeout(group.rework)
        queue = group.spec.complete_to_queue if group.transfer <= outcome < group.to_queue else None
        attempt = 0
        while not done and attempt < _MAX_COMPLETE_ATTEMPTS:
            attempt += 1
            completed = self.do(Complete(actor=agent.name, email_id=email_id, queue=queue))
            if completed.__class__ is Accepted:
                done = True
                if queue is None:
                    self.finished(email_id)
                break
            yield env.timeout(group.rework)
            email = self.emails[email_id]
            if "DispositionCode" not in email.user_data:
                self.do(
                    SetDisposition(actor=agent.name, email_id=email_id, disposition=_DISPOSITION)
                )
        if not done:  # refused every time: back to its queue, if a rule allows it
            email = self.emails[email_id]
            back = Transfer(actor=agent.name, email_id=email_id, queue=email.queue)
            done = self.do(back).__class__ is Accepted
            if done and track is not None:
                for s in track.stats:
                    s.transfers += 1
        if done:
            self.integrate()
            self.busy -= 1
            agent.load -= 1
            self.availability(agent)
        self.dispatch()

    # ------------------------------------------------------------ agent actions

    def send_reply(self, email_id: str, agent: _Agent) -> None:
        self.replies += 1
        draft = f"R{self.replies}"
        actor = agent.name
        if self.do(Reply(actor=actor, email_id=email_id, new_email_id=draft)).__class__ is not (
            Accepted
        ):
            return
        saved = self.do(
            Save(actor=actor, email_id=draft, fields=EmailFields(body="Thank you for writing."))
        )
        sent = saved.__class__ is Accepted and (
            self.do(Send(actor=actor, email_id=draft, queue=self.scenario.outbound_queue)).__class__
            is Accepted
        )
        if not sent:
            self.do(Cancel(actor=actor, email_id=draft))

    def transfer(self, email_id: str, agent: _Agent) -> bool:
        """Transfer the email away (True), or leave it with the agent (False: refused)."""
        spec = agent.group.spec
        email = self.emails[email_id]
        target: _Agent | None = None
        queue = spec.transfer_queue
        if queue is None:
            index = self.queue_index.get(email.queue)
            if index is not None:
                for name, candidate in self.free[index].items():
                    if name != agent.name and name not in email.rejected_by:
                        target = candidate
                        break
            if target is None:
                queue = email.queue
        command = (
            Transfer(actor=agent.name, email_id=email_id, agent=target.name)
            if target is not None
            else Transfer(actor=agent.name, email_id=email_id, queue=queue)
        )
        if self.do(command).__class__ is not Accepted:
            return False
        track = self.tracks.get(email_id)
        if track is not None:
            for s in track.stats:
                s.transfers += 1
        if target is not None:
            self.invited(email_id, target)
        return True

    def finished(self, email_id: str) -> None:
        self.i_completions += 1
        track = self.tracks.pop(email_id, None)
        if track is not None and track.warm:
            took = self.env.now - track.arrived
            for s in track.stats:
                s.completed += 1
                s.to_completion.add(took)

    # ------------------------------------------------------------ intervals

    def intervals(self, rows: list[IntervalRow], progress: Progress | None) -> _Process:
        length = self.scenario.interval_minutes * 60.0
        k = 0
        while True:
            k += 1
            boundary = k * length
            if boundary >= self.end:
                return
            yield self.env.timeout(boundary - self.env.now)
            rows.append(self.row((k - 1) * length))
            if progress is not None:
                progress(boundary / _HOUR, self.scenario.duration_hours)

    def row(self, start: float) -> IntervalRow:
        self.integrate()
        now = self.env.now
        self.most_live = max(self.most_live, len(self.emails))
        oldest = next(iter(self.tracks.values()), None)
        row = IntervalRow(
            start_hours=start / _HOUR,
            arrivals=self.i_arrivals,
            completions=self.i_completions,
            backlog=len(self.tracks),
            queued=len(self.waiting_in),
            oldest_age_seconds=now - oldest.arrived if oldest is not None else 0.0,
            service_level=self.i_within / self.i_answered if self.i_answered else math.nan,
            occupancy=(
                self.i_busy_area / self.i_capacity_area if self.i_capacity_area else math.nan
            ),
        )
        self.i_arrivals = self.i_completions = self.i_within = self.i_answered = 0
        self.i_busy_area = self.i_capacity_area = 0.0
        return row

    # ------------------------------------------------------------ the run

    def run(self, progress: Progress | None) -> SimulationResult:
        env = self.env
        rows: list[IntervalRow] = []
        for index in range(len(self.groups)):
            env.process(self.shifts_of(index))
        for index, queue in enumerate(self.scenario.queues):
            env.process(self.arrivals_of(index, queue))
        env.process(self.intervals(rows, progress))
        env.run(until=self.end)
        length = self.scenario.interval_minutes * 60.0
        rows.append(self.row(len(rows) * length))
        if progress is not None:
            progress(self.scenario.duration_hours, self.scenario.duration_hours)
        return self.result(tuple(rows))

    def result(self, rows: tuple[IntervalRow, ...]) -> SimulationResult:
        now = self.env.now
        live = [0] * len(self.stats)
        live_all = 0
        for track in self.tracks.values():
            if not track.warm:
                continue
            live[track.queue] += 1
            live_all += 1
            if not track.accepted and now - track.arrived > track.goal:
                for s in track.stats:
                    s.missed += 1
        answered = self.cc_answered
        scenario = self.scenario
        store = self.store
        return SimulationResult(
            scenario=scenario.name,
            seed=self.seed,
            duration_hours=scenario.duration_hours,
            warmup_hours=scenario.warmup_hours,
            interval_minutes=scenario.interval_minutes,
            overall=self.overall.kpis(live_all),
            queues={name: self.stats[i].kpis(live[i]) for i, name in enumerate(self.queue_names)},
            call_center=CallCenterKpis(
                answered=answered,
                threshold_seconds=self.threshold,
                p_wait=self.cc_waited / answered if answered else math.nan,
                service_level=self.cc_within / answered if answered else math.nan,
                asa_seconds=self.cc_wait / answered if answered else math.nan,
            ),
            occupancy=self.busy_area / self.capacity_area if self.capacity_area else math.nan,
            handle_time=self.handle_times.summary(),
            refusals_by_code=dict(sorted(self.refusals.items())),
            refusals_by_policy={p.name: p.hits for p in self.counted},
            intervals=rows,
            commands=self.commands,
            emails=self.arrivals,
            most_live_emails=self.most_live,
            events=store.history if store._history is not None else None,
            final_emails=dict(store.emails) if store._history is not None else None,
        )


def _cumulative(weights: Any) -> list[float]:
    total = 0.0
    out = []
    for w in weights:
        total += w
        out.append(total)
    return out


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    record: bool = False,
) -> SimulationResult:
    """Simulate ``scenario`` and return what it measured.

    ``seed`` replaces the scenario's seed (for replications); the same scenario and seed
    give an equal result. ``progress`` is called with ``(simulated_hours_done,
    total_hours)`` after each KPI interval. With ``record=True`` the result also carries
    the event log (``events``, for :func:`~email_fsm.replay`) and the live emails at the
    end (``final_emails``); memory then grows with the log.

    >>> from email_fsm.sim import Scenario
    >>> scenario = Scenario.model_validate({
    ...     "duration_hours": 8, "seed": 1,
    ...     "queues": [{"name": "support", "rate_per_hour": 20, "service_goal_hours": 1}],
    ...     "agent_groups": [{"name": "team", "count": 3, "skills": ["support"],
    ...                       "handle_time": {"distribution": "exponential", "mean_minutes": 6}}],
    ... })
    >>> result = simulate(scenario)
    >>> result.overall.arrived > 100, 0.0 < result.occupancy < 1.0
    (True, True)
    >>> result == simulate(scenario)
    True
    """
    return _Run(scenario, scenario.seed if seed is None else seed, record).run(progress)
