"""The benchmark suite: every contender, the same steps, one process, interleaved.

:func:`run` measures and returns plain JSON-able results; :mod:`benchmarks.report`
turns them into ``RESULTS.md`` and the plot. The sections:

- **steps**: per repeat and contender, a fresh store and a batch of new emails taken
  through Arrive, Offer, Accept, AddComment, Transfer (to another agent), Accept (by
  that agent, not timed) and Complete, each step timed as one batch; then a fresh batch
  of new emails through the whole lifecycle (Arrive, Offer, Accept, 3x AddComment,
  Complete), one email after the other. The contenders take turns on each step within
  each repeat, each repeat starting with the next one. Index ``r`` of every list of
  times is repeat ``r``, so the report divides each contender's time by email_fsm's *of
  the same repeat* (or the limit's) and gives the median of those per-repeat ratios with
  their min and max.
- **scale**: every scaled contender's store grown size by size of live (Processing)
  emails; at each size, the contenders take turns timing AddComment on a random sample
  of the live emails, and the creation (Arrive) of new ones. A contender stops growing
  when the next size is projected to take longer than the time budget, or more memory
  than the memory budget. The times are paired by repeat as in the steps.
- **memory**: bytes per live email (tracemalloc), emails taken to Processing with no
  content, by each contender's own steps.
- **render**: ``Notification.to_json()`` of the notifications of the Transfer step of
  the seed scenario (``email_fsm/data/seed_scenario.json``).
- **import**: ``import email_fsm`` against ``import pydantic``, each in fresh interpreter
  processes (:mod:`benchmarks.importtime`).
- **boundary**: :func:`email_fsm.requests.handle_request` with the notifications rendered,
  against ``decide`` (:mod:`benchmarks.boundary`, paired per repeat).
- **eviction**: the memory of an ``EmailStore`` over many lifecycles, with and without
  ``evict_terminal`` (:mod:`benchmarks.eviction`).
"""

from __future__ import annotations

import datetime
import gc
import importlib.metadata
import math
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from typing import Any

from email_fsm import Accepted, ContactCenter, Notification
from email_fsm.scenario import AgentStep, load_scenario

from .boundary import measure as measure_boundary
from .contenders import (
    CONTENDERS,
    FIRST,
    LIFECYCLE_STEPS,
    QUEUE,
    SECOND,
    Contender,
)
from .eviction import SIZES as EVICTION_SIZES
from .eviction import run as measure_eviction
from .harness import CLOCK, Timing, time_batch, traced_bytes
from .importtime import measure as measure_imports

__all__ = ["ROUND", "SCALED", "Settings", "boundary", "eviction", "run"]

ROUND = ("Arrive", "Offer", "Accept", "AddComment", "Transfer", "Complete")
"""The steps timed one by one, in the order they are taken."""

SCALED = (
    "email_fsm",
    "limit",
    "limit_mutable",
    "transitions",
    "transitions_shared",
    "statemachine",
)
"""The contenders grown to many live emails."""

NOT_STORES = ("email_fsm_built", "email_fsm_evolve", "email_fsm_json", "limit_built")
"""The contenders whose store is another's (only their timed loop differs): no memory."""

Results = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Settings:
    """How much to measure. :meth:`tiny` is the smoke run of the tests."""

    repeats: int = 15
    batch: dict[str, int] = field(
        default_factory=lambda: {
            "email_fsm": 1000,
            "email_fsm_built": 1000,
            "email_fsm_evolve": 1000,
            "email_fsm_json": 500,
            "limit": 1000,
            "limit_built": 1000,
            "limit_mutable": 1000,
            "transitions": 100,
            "transitions_shared": 100,
            "statemachine": 25,
        }
    )
    sizes: tuple[int, ...] = (1_000, 10_000, 100_000, 1_000_000)
    scale_repeats: int = 7
    scale_sample: dict[str, int] = field(
        default_factory=lambda: {
            "email_fsm": 1000,
            "limit": 1000,
            "limit_mutable": 1000,
            "transitions": 100,
            "transitions_shared": 100,
            "statemachine": 30,
        }
    )
    time_budget: float = 60.0
    """Seconds a contender may spend growing to the next size (projected)."""
    memory_budget: float = 6e9
    """Bytes a contender's live emails may take at the next size (projected)."""
    memory_emails: int = 500
    render_loops: int = 2000
    import_repeats: int = 51
    """Rounds of the three fresh processes of the import time (benchmarks.importtime)."""
    boundary_repeats: int = 21
    boundary_loops: int = 2000
    """The boundary against decide (benchmarks.boundary): repeats, operations per batch."""
    eviction_sizes: tuple[int, ...] = EVICTION_SIZES
    """Numbers of lifecycles of the eviction section (benchmarks.eviction)."""

    @classmethod
    def tiny(cls) -> Settings:
        return cls(
            repeats=1,
            batch=dict.fromkeys((c.key for c in CONTENDERS), 4),
            sizes=(20, 40),
            scale_repeats=1,
            scale_sample=dict.fromkeys(SCALED, 5),
            memory_emails=5,
            render_loops=3,
            import_repeats=2,
            boundary_repeats=1,
            boundary_loops=3,
            eviction_sizes=(10, 100),
        )

    def batch_of(self, key: str) -> int:
        return self.batch.get(key) or 4


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n:08d}" for n in range(count)]


# ------------------------------------------------------------------------------ steps


def _steps(settings: Settings, log: Callable[[str], None]) -> tuple[Results, Results]:
    """Per repeat, every contender's fresh store; for each step in turn, every contender
    times its batch (so the batches a ratio pairs are close in time); then the lifecycle
    the same way. Return the times and the phase of each contender's first email after
    each step."""
    steps: Results = {c.key: {} for c in CONTENDERS}
    phases: Results = {}
    for repeat in range(settings.repeats):
        log(f"steps: repeat {repeat + 1}/{settings.repeats}")
        # Each repeat starts with another contender, so that none always runs first.
        start = repeat % len(CONTENDERS)
        order = CONTENDERS[start:] + CONTENDERS[:start]
        stores = {cls.key: cls() for cls in order}
        ids = {key: _ids(f"R{repeat}-", settings.batch_of(key)) for key in stores}
        seen: dict[str, list[str]] = {key: [] for key in stores}
        for kind in ROUND:
            actor = SECOND if kind == "Complete" else FIRST
            if kind == "Complete":
                for key, store in stores.items():
                    store.runner("Accept", ids[key], SECOND)()  # the transferred, not timed
                    seen[key].append(store.phase(ids[key][0]))
            for key, store in stores.items():
                run = store.runner(kind, ids[key], actor)
                steps[key].setdefault(kind, []).append(time_batch(run, len(ids[key])))
                seen[key].append(store.phase(ids[key][0]))
        stores = {cls.key: cls() for cls in order}
        ids = {key: _ids(f"L{repeat}-", settings.batch_of(key)) for key in stores}
        for key, store in stores.items():
            run = store.runner("Lifecycle", ids[key], FIRST)
            steps[key].setdefault("Lifecycle", []).append(time_batch(run, len(ids[key])))
            seen[key].append(store.phase(ids[key][0]))
        phases = seen
    return steps, {cls.key: phases[cls.key] for cls in CONTENDERS}


# ------------------------------------------------------------------------------ scale


def _stop(size: int, live: int, fill_ns: float, memory: float, settings: Settings) -> str | None:
    """Why a contender does not grow to ``size``, if it does not."""
    projected_s = (size - live) * fill_ns / 1e9
    if projected_s > settings.time_budget:
        return (
            f"stopped before {size:,} live emails: growing there was projected to take "
            f"about {projected_s:,.0f} s (budget {settings.time_budget:.0f} s)"
        )
    if memory * size > settings.memory_budget:
        return (
            f"stopped before {size:,} live emails: they would take about "
            f"{memory * size / 1e9:,.1f} GB (budget {settings.memory_budget / 1e9:.0f} GB)"
        )
    return None


def _scale(settings: Settings, memory: Results, log: Callable[[str], None]) -> Results:
    """Grow every scaled contender size by size; at each size, time them taking turns."""
    stores: dict[str, Contender] = {cls.key: cls() for cls in CONTENDERS if cls.key in SCALED}
    results: Results = {key: {"points": {}, "stopped": None} for key in stores}
    growing = list(stores)
    fill_ns = dict.fromkeys(stores, 0.0)
    rng = random.Random(7)
    live = 0
    for size in settings.sizes:
        for key in list(growing):
            stopped = _stop(size, live, fill_ns[key], memory[key], settings)
            if stopped is not None and results[key]["points"]:
                results[key]["stopped"] = stopped
                growing.remove(key)
        if not growing:
            break
        new_ids = _ids("F", size)[live:]
        grow_s = {}
        for key in growing:
            started = time.perf_counter()
            stores[key].fill(new_ids)
            grow_s[key] = time.perf_counter() - started
        live = size
        gc.collect()
        gc.freeze()  # the live emails stay: collections need not walk them again
        live_ids = _ids("F", live)
        times: dict[str, dict[str, list[float]]] = {
            key: {"op": [], "create": []} for key in growing
        }
        for repeat in range(settings.scale_repeats):
            start = repeat % len(growing)
            order = growing[start:] + growing[:start]
            for key in order:  # AddComment, every contender in turn
                sample = settings.scale_sample.get(key, 5)
                chosen = rng.sample(live_ids, min(sample, live))
                run = stores[key].runner("AddComment", chosen, FIRST)
                times[key]["op"].append(time_batch(run, len(chosen)))
            for key in order:  # then the creations, every contender in turn
                sample = settings.scale_sample.get(key, 5)
                new = [f"N{size}-{repeat}-{n:06d}" for n in range(sample)]
                run = stores[key].runner("Arrive", new, FIRST)
                times[key]["create"].append(time_batch(run, len(new)))
        for key in growing:
            points = results[key]["points"]
            points[str(size)] = {**times[key], "grow_s": round(grow_s[key], 2)}
            log(
                f"scale: {key} at {size:,}: {Timing(tuple(times[key]['op'])).median:,.0f} "
                f"ns/op, {Timing(tuple(times[key]['create'])).median:,.0f} ns/create, "
                f"grown in {grow_s[key]:.1f} s"
            )
            # The projection for the next size: growing took this long per email, and a
            # creation cost that grows with the size keeps growing.
            per_email = grow_s[key] * 1e9 / len(new_ids)
            fill_ns[key] = per_email * _growth(points, settings.sizes)
    gc.unfreeze()
    stores.clear()
    gc.collect()
    return results


def _growth(points: Results, sizes: Sequence[int]) -> float:
    """How much dearer a creation gets on the way to the next size (1: flat)."""
    reached = [s for s in sizes if str(s) in points]
    if len(reached) < 2:
        return 1.0
    (n1, n2) = reached[-2:]
    c1 = Timing(tuple(points[str(n1)]["create"])).median
    c2 = Timing(tuple(points[str(n2)]["create"])).median
    exponent = min(max(math.log(max(c2, 1.0) / max(c1, 1.0)) / math.log(n2 / n1), 0.0), 2.0)
    following = [s for s in sizes if s > n2]
    if exponent < 0.25 or not following:
        return 1.0
    middle = (n2 + following[0]) / 2
    return float((middle / n2) ** exponent)


# ----------------------------------------------------------------------------- memory


def _memory(settings: Settings) -> Results:
    memory: Results = {}
    count = settings.memory_emails
    for cls in CONTENDERS:
        if cls.key in NOT_STORES:
            continue
        ids = _ids("M", count)  # the ids exist before: every contender keeps the same ones
        # The empty store is made before measuring: for the shared transitions Machine,
        # that is the machine, which is not per email.
        contender = cls()

        def build(contender: Contender = contender, ids: list[str] = ids) -> Contender:
            for email_id in ids:
                contender.arrive(email_id, QUEUE)
                contender.offer(email_id, FIRST)
                contender.accept(email_id, FIRST)
            return contender

        used, built = traced_bytes(build)
        assert isinstance(built, cls)
        assert built.phase(ids[-1]) == "Processing"
        memory[cls.key] = used / count
    return memory


# ----------------------------------------------------------------------------- render


def transfer_notifications() -> tuple[Notification, ...]:
    """The notifications of the Transfer step (step 3) of the seed scenario."""
    text = (files("email_fsm") / "data" / "seed_scenario.json").read_text()
    scenario = load_scenario(text)
    center = ContactCenter()
    decision = None
    for step in scenario.steps[:4]:
        if isinstance(step, AgentStep):
            decision = center.request(
                step.agent, step.request, email_id=step.email_id, reference_id=step.reference_id
            )
        else:
            decision = center.execute(step)
    assert isinstance(decision, Accepted), decision
    assert decision.notifications, decision
    return decision.notifications


def _render(settings: Settings) -> Results:
    rendered: Results = {}
    for notification in transfer_notifications():
        loops = settings.render_loops
        to_json = notification.to_json
        times = []
        for _ in range(max(settings.repeats, 1)):

            def run(to_json: Callable[[], str] = to_json, loops: int = loops) -> None:
                for _ in range(loops):
                    to_json()

            times.append(time_batch(run, loops))
        user_data = notification.to_dict()["data"]["email"].get("userData") or {}
        rendered[f"{notification.recipient} ({notification.state})"] = {
            "ns": times,
            "user_data_keys": len(user_data),
            "bytes": len(notification.to_json()),
        }
    return rendered


# -------------------------------------------------------------------------------- run


def _meta(settings: Settings) -> Results:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = 0
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(ram / 2**30, 1),
        "versions": {name: version(name) for name in _PACKAGES},
        "load": _load(),
        "clock": CLOCK,
        "settings": asdict(settings),
        "names": {cls.key: cls.name for cls in CONTENDERS},
        "lifecycle_steps": LIFECYCLE_STEPS,
        "gc": "off during each timed batch (after a collection), as timeit does",
        "pairing": "index r of every list of times is repeat r: ratios are per repeat",
        "executable": sys.executable.rsplit("/", 1)[-1],
    }


_PACKAGES = ("email-fsm", "transitions", "python-statemachine", "pydantic", "matplotlib")


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def boundary(settings: Settings, log: Callable[[str], None]) -> Results:
    """The boundary section (benchmarks.boundary), with the load it ran at."""
    load = _load()
    section = measure_boundary(
        repeats=settings.boundary_repeats, loops=settings.boundary_loops, log=_every(10, log)
    )
    section["meta"]["load"] = f"{load} at the start, {_load()} at the end"
    return section


def eviction(settings: Settings) -> Results:
    """The eviction section (benchmarks.eviction), with when and at what load it ran."""
    load = _load()
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    runs = measure_eviction(settings.eviction_sizes)
    return {
        "date": date,
        "load": f"{load} at the start, {_load()} at the end",
        "sizes": list(settings.eviction_sizes),
        "runs": runs,
    }


def _every(step: int, log: Callable[[str], None]) -> Callable[[str], None]:
    """``log``, passing on one message in ``step`` (the first, then every step-th)."""
    count = [0]

    def every(message: str) -> None:
        if count[0] % step == 0:
            log(message)
        count[0] += 1

    return every


def run(settings: Settings | None = None, log: Callable[[str], None] = print) -> Results:
    """Measure everything; return the results (JSON-able)."""
    settings = settings or Settings()
    started = time.perf_counter()

    def done(section: str) -> None:
        log(f"{section}: done at {time.perf_counter() - started:.0f} s")

    # What is alive now (modules, the table) stays: the collection before each timed
    # batch need not walk it again.
    gc.collect()
    gc.freeze()
    results: Results = {"meta": _meta(settings)}
    results["import"] = measure_imports(settings.import_repeats, log)
    done("import")
    results["render"] = _render(settings)
    done("render")
    results["memory"] = _memory(settings)
    done("memory")
    results["steps"], results["phases"] = _steps(settings, log)
    done("steps")
    results["scale"] = _scale(settings, results["memory"], log)
    done("scale")
    results["boundary"] = boundary(settings, log)
    done("boundary")
    results["eviction"] = eviction(settings)
    done("eviction")
    results["meta"]["duration_s"] = round(time.perf_counter() - started)
    results["meta"]["load"] += f" at the start, {_load()} at the end"
    return results
