"""Turn the suite's results into ``RESULTS.md`` and the plot of cost vs live emails.

:func:`markdown` is a pure function of the results, so the committed ``RESULTS.md`` is
checked against the committed ``results.json`` by the tests.

Every ratio is paired: within each repeat, a contender's time is divided by the base's
time *of the same repeat* (the contenders take turns on each step), and the report
gives the median of those per-repeat ratios with their min and max. A ratio of medians
would divide figures taken at different moments of a shared machine.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .importtime import ratios

__all__ = ["CONTRACT", "contract", "markdown", "plot"]

Results = dict[str, Any]
Row = tuple[str, ...]

TIMES = "\u00d7"  # the multiplication sign of "2.0x"
DASH = "\u2013"  # the en dash of "min-max"

STEP_COLUMNS = ("Arrive", "Offer", "Accept", "AddComment", "Transfer", "Complete")
CONTRACT_KINDS = ("Accept", "AddComment", "Transfer", "Complete", "Lifecycle")
BASE = "email_fsm"
LIMIT = "limit"
BUILT = "email_fsm_built"
LIMIT_BUILT = "limit_built"

CONTRACT: dict[str, float] = {
    "limit": 2.0,
    "transitions": 4.0,
    "transitions_shared": 4.0,
    "statemachine": 40.0,
    "flat": 1.5,
    "lifecycle": 0.7,
    "memory_fraction": 1 / 3,
    "import": 1.5,
    "boundary": 3.0,
    "eviction": 2.0,
}
"""The performance contract. ``flat``: the cost at the largest size over the cost at the
smallest, beyond what the hand-written limit itself shows. ``import``: ``import email_fsm``
over ``import pydantic``, the interpreter's start-up excluded. ``boundary``:
``handle_request`` with the notifications rendered, over ``decide``. ``eviction``: the
memory of an ``EmailStore`` evicting after each lifecycle, at the most lifecycles over
the fewest."""


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def _ns(values: Sequence[float]) -> str:
    return f"{_median(values):,.0f} ({min(values):,.0f}{DASH}{max(values):,.0f})"


def _per_step(results: Results, key: str, kind: str) -> list[float]:
    values: list[float] = results["steps"][key][kind]
    if kind == "Lifecycle":
        steps: int = results["meta"]["lifecycle_steps"]
        return [v / steps for v in values]
    return values


def paired(ours: Sequence[float], base: Sequence[float]) -> list[float]:
    """``ours`` over ``base``, repeat by repeat (index r of both is repeat r)."""
    return [a / b for a, b in zip(ours, base, strict=True)]


def _ratios(results: Results, key: str, kind: str, base: str = BASE) -> list[float]:
    """The contender's time over ``base``'s, per repeat (> 1: slower)."""
    return paired(_per_step(results, key, kind), _per_step(results, base, kind))


def _ratio(results: Results, key: str, kind: str, base: str = BASE) -> float:
    """The median of the per-repeat ratios."""
    return _median(_ratios(results, key, kind, base))


def _scale_ratios(results: Results, key: str, size: int, what: str, base: str) -> list[float]:
    """At ``size`` live emails, ``key``'s cost over ``base``'s, per repeat ([]: not both)."""
    ours = results["scale"][key]["points"].get(str(size))
    theirs = results["scale"][base]["points"].get(str(size))
    if ours is None or theirs is None:
        return []
    return paired(ours[what], theirs[what])


def _growth(results: Results, key: str, what: str) -> tuple[int, int, float] | None:
    """(smallest size, largest size reached, median cost there / median cost at the smallest)."""
    points = results["scale"][key]["points"]
    sizes = sorted(int(s) for s in points)
    if len(sizes) < 2:
        return None
    first, last = points[str(sizes[0])][what], points[str(sizes[-1])][what]
    return sizes[0], sizes[-1], _median(last) / _median(first)


_BUILT_LABEL = "commands built in the loop"


def contract(results: Results) -> list[tuple[str, str, str, bool]]:
    """(item, target, measured, met) for each item of the performance contract."""
    rows = [
        _versus_limit(results, BASE, LIMIT, "commands prepared beforehand"),
        _versus_limit(results, BUILT, LIMIT_BUILT, "commands built in the loop"),
    ]
    labels = {
        "transitions": "transitions, a Machine per email",
        "transitions_shared": "transitions, one shared Machine",
        "statemachine": "python-statemachine",
    }
    for key, label in labels.items():
        for base, how in ((BASE, "commands prepared beforehand"), (BUILT, _BUILT_LABEL)):
            # The peer's time over email_fsm's: how many times faster email_fsm is.
            faster = {kind: _ratios(results, key, kind, base) for kind in CONTRACT_KINDS}
            kind = min(faster, key=lambda k: _median(faster[k]))
            worst = _median(faster[kind])
            rows.append(
                (
                    f"faster than {label}, {how}",
                    f"{CONTRACT[key]:.0f}{TIMES} faster per step, or more",
                    f"{_span(faster[kind], 1)} faster at least ({kind})",
                    worst >= CONTRACT[key],
                )
            )
    rows.append(_flat(results))
    steps = results["steps"]
    for ours, limit, how in (
        (BASE, LIMIT, "commands prepared beforehand"),
        (BUILT, LIMIT_BUILT, _BUILT_LABEL),
    ):
        # The limit's time over email_fsm's: email_fsm's throughput as a fraction of it.
        share = paired(
            _per_step(results, limit, "Lifecycle"), _per_step(results, ours, "Lifecycle")
        )
        rows.append(
            (
                f"full lifecycles per second vs the hand-written frozen-dataclass limit, {how}",
                f"{CONTRACT['lifecycle']}{TIMES} the limit's, or more",
                f"{_span(share, 2)}: {1e9 / _median(steps[ours]['Lifecycle']):,.0f} "
                f"lifecycles per second against {1e9 / _median(steps[limit]['Lifecycle']):,.0f}",
                _median(share) >= CONTRACT["lifecycle"],
            )
        )
    memory = results["memory"]
    fraction = memory[BASE] / memory["transitions_shared"]
    rows.append(
        (
            "memory of a live email vs a model in a shared transitions Machine",
            "1/3 or less",
            f"{memory[BASE]:,.0f} B vs {memory['transitions_shared']:,.0f} B "
            f"= 1/{1 / fraction:.0f}",
            fraction <= CONTRACT["memory_fraction"],
        )
    )
    rows.append(_import(results))
    if "boundary" in results:
        rows.append(_boundary(results))
    if "eviction" in results:
        rows.append(_eviction(results))
    return rows


def _span(values: Sequence[float], digits: int = 2) -> str:
    """A paired ratio: the median of the per-repeat ratios (min-max)."""
    if not values:
        return "—"
    d = digits
    return f"{_median(values):.{d}f}{TIMES} ({min(values):.{d}f}{DASH}{max(values):.{d}f})"


def _evicted(results: Results, evict: bool) -> list[Results]:
    runs: list[Results] = results["eviction"]["runs"]
    return sorted((r for r in runs if r["evict"] is evict), key=lambda r: int(r["lifecycles"]))


def _eviction(results: Results) -> tuple[str, str, str, bool]:
    """As ``python -m benchmarks.eviction`` judges it: with eviction, no email held, and
    the memory at the largest size at most twice that at the smallest (4 KiB floor)."""
    kept, dropped = _evicted(results, False), _evicted(results, True)
    first, last = dropped[0], dropped[-1]
    flat = all(r["emails_held"] == 0 for r in dropped) and last["current_bytes"] <= (
        CONTRACT["eviction"] * max(first["current_bytes"], 4096)
    )
    without = kept[-1] if kept else None
    measured = (
        f"with eviction {_kib(first['current_bytes'])} after {first['lifecycles']:,}, "
        f"{_kib(last['current_bytes'])} after {last['lifecycles']:,} "
        f"({last['emails_held']:,} emails held; peak {_kib(last['peak_bytes'])})"
    )
    if without is not None:
        measured += (
            f"; without: {_kib(without['current_bytes'])} after {without['lifecycles']:,} "
            f"({without['emails_held']:,} emails held)"
        )
    return (
        "memory of an EmailStore with evict_terminal, over many lifecycles",
        f"flat: no email held, and at most {CONTRACT['eviction']:.0f}{TIMES} the memory "
        "after the fewest lifecycles (4 KiB floor)",
        measured,
        flat,
    )


def _kib(size: float) -> str:
    if size >= 2**20:
        return f"{size / 2**20:,.1f} MiB"
    return f"{size / 1024:,.1f} KiB"


def _boundary(results: Results) -> tuple[str, str, str, bool]:
    operations: dict[str, Results] = results["boundary"]["operations"]
    worst = max(_median(entry["ratios"]) for entry in operations.values())
    detail = ", ".join(f"{name} {_span(entry['ratios'])}" for name, entry in operations.items())
    return (
        "handle_request with the notifications rendered vs decide",
        f"{CONTRACT['boundary']:.0f}{TIMES} decide, or less",
        f"{worst:.2f}{TIMES} at worst ({detail})",
        worst <= CONTRACT["boundary"],
    )


def _import(results: Results) -> tuple[str, str, str, bool]:
    item = "import email_fsm vs import pydantic, in a fresh interpreter"
    target = f"{CONTRACT['import']}{TIMES} or less, the start-up excluded"
    if "import" not in results:
        return (item, target, "not measured", False)
    excluded = ratios(results["import"])
    included = ratios(results["import"], startup=True)
    return (
        item,
        target,
        f"{_span(excluded)}; {_span(included)} with the start-up (CPU time, median of the "
        f"per-repeat ratios, min{DASH}max)",
        _median(excluded) <= CONTRACT["import"],
    )


def _versus_limit(results: Results, ours: str, limit: str, how: str) -> tuple[str, str, str, bool]:
    versus = {kind: _ratios(results, ours, kind, limit) for kind in CONTRACT_KINDS}
    worst = max(_median(values) for values in versus.values())
    detail = ", ".join(f"{kind} {_span(values)}" for kind, values in versus.items())
    return (
        f"decide + evolve vs the hand-written frozen-dataclass limit, {how}",
        f"{CONTRACT['limit']:.0f}{TIMES} the limit, or less",
        f"{worst:.2f}{TIMES} at worst ({detail})",
        worst <= CONTRACT["limit"],
    )


def _flat(results: Results) -> tuple[str, str, str, bool]:
    item = "flat cost per step with the number of live emails"
    target = (
        f"email_fsm's time over the limit's grows {CONTRACT['flat']}{TIMES} or less "
        "from the smallest size to the largest"
    )
    parts = []
    met = True
    for what, label in (("op", "AddComment"), ("create", "creation")):
        ours, limit = _growth(results, BASE, what), _growth(results, LIMIT, what)
        if ours is None or limit is None:
            return (item, target, "not measured", False)
        first, last, growth = ours
        at_first = _scale_ratios(results, BASE, first, what, LIMIT)
        at_last = _scale_ratios(results, BASE, last, what, LIMIT)
        if not at_first or not at_last:
            return (item, target, "not measured", False)
        grows = _median(at_last) / _median(at_first)
        parts.append(
            f"{label}: over the limit {_span(at_first)} at {first:,}, {_span(at_last)} at "
            f"{last:,}, so {grows:.2f}{TIMES} (each alone: email_fsm {growth:.2f}{TIMES}, "
            f"the limit {limit[2]:.2f}{TIMES})"
        )
        met = met and grows <= CONTRACT["flat"]
    return (item, target, "; ".join(parts), met)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def markdown(results: Results) -> str:
    """RESULTS.md, from the results alone."""
    meta = results["meta"]
    settings = meta["settings"]
    versions = ", ".join(f"{name} {version}" for name, version in meta["versions"].items())
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m benchmarks`) from `benchmarks/results.json`;",
        "what is measured and how: `benchmarks/README.md`.",
        "",
        f"- date: {meta['date']}; the whole run took {meta['duration_s']} s",
        f"- machine: {meta['cpu']}, {meta['cores']} cores, {meta['ram_gb']} GB RAM; "
        f"{meta['platform']}; load average {meta['load']}",
        f"- {meta['python']}; {versions}",
        f"- timing: {meta['clock']}; {settings['repeats']} repeats of a batch per step and "
        f"contender, the contenders taking turns on each step (each repeat starting with "
        f"the next); every ratio is the median of the per-repeat ratios (min{DASH}max); "
        f"garbage collector {meta['gc']}",
        "",
        "## The performance contract",
        "",
    ]
    out += _table(
        ("item", "target", "measured", "met"),
        [
            (item, target, value, "yes" if met else "**no**")
            for item, target, value, met in contract(results)
        ],
    )
    out += _steps_section(results)
    out += _scale_section(results)
    out += _memory_section(results)
    out += _render_section(results)
    out += _import_section(results)
    out += _boundary_section(results)
    out += _eviction_section(results)
    return "\n".join(out) + "\n"


def _steps_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    batch: dict[str, int] = results["meta"]["settings"]["batch"]
    keys = list(results["steps"])
    kinds = (*STEP_COLUMNS, "Lifecycle")
    out = [
        "",
        "## Cost per step",
        "",
        f"Nanoseconds per step: median ({'min' + DASH + 'max'}) over the repeats. *lifecycle*",
        "is the whole lifecycle of one email divided by its 7 steps. *batch*: emails per timed",
        "batch.",
        "",
    ]
    rows: list[Row] = []
    for key in keys:
        cells = tuple(_ns(_per_step(results, key, kind)) for kind in kinds)
        rows.append((names[key], str(batch.get(key)), *cells))
    out += _table(("contender", "batch", *STEP_COLUMNS, "lifecycle"), rows)
    out += [
        "",
        "Over email_fsm decide (more than 1: slower than email_fsm): within each repeat, the",
        "contender's time over email_fsm's time of the same repeat; the median of those",
        f"per-repeat ratios (min{DASH}max).",
        "",
    ]
    rows = []
    for key in keys:
        rows.append((names[key], *(_span(_ratios(results, key, kind)) for kind in kinds)))
    out += _table(("contender", *STEP_COLUMNS, "lifecycle"), rows)
    out += [
        "",
        "Commands prepared beforehand, and built in the loop: each pair's paired ratio, as",
        "above. email_fsm built in the loop makes each command inside the timed loop",
        "(`decide(emails, AddComment(actor=..., email_id=..., comment=...))`); the limit",
        "called in the loop looks its method up on the store and passes keyword arguments",
        "(`store.add_comment(email_id=..., actor=..., comment=...)`).",
        "",
    ]
    pairs = (
        (BUILT, BASE),
        (LIMIT_BUILT, LIMIT),
        (BASE, LIMIT),
        (BUILT, LIMIT_BUILT),
    )
    rows = [
        (
            f"{names[ours]} over {names[base]}",
            *(_span(_ratios(results, ours, kind, base)) for kind in kinds),
        )
        for ours, base in pairs
    ]
    out += _table(("ratio", *STEP_COLUMNS, "lifecycle"), rows)
    out += ["", "## Full lifecycles per second, one core", ""]
    rows = []
    for key in keys:
        lifecycle = _median(results["steps"][key]["Lifecycle"])
        rows.append(
            (
                names[key],
                f"{lifecycle / 1000:,.1f}",
                f"{1e9 / lifecycle:,.0f}",
                _span(_ratios(results, key, "Lifecycle")),
            )
        )
    header = ("contender", "µs per lifecycle", "lifecycles per second", "vs email_fsm, paired")
    out += _table(header, rows)
    return out


def _scale_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    sizes: list[int] = results["meta"]["settings"]["sizes"]
    out = [
        "",
        "## Cost with the number of live emails",
        "",
        "At each number of live (Processing) emails: AddComment on a random sample of them,",
        "and creating (Arrive) new ones; ns per step, median over the repeats. Plot:",
        "`scale.png`.",
        "",
    ]
    rows: list[Row] = []
    stops = []
    for key, scale in results["scale"].items():
        points = scale["points"]
        for what, label in (("op", "AddComment"), ("create", "create")):
            cells = tuple(_point(points.get(str(size)), what) for size in sizes)
            rows.append((f"{names[key]}: {label}", *cells))
        if scale["stopped"]:
            stops.append(f"- {names[key]}: {scale['stopped']}.")
    out += _table(("contender: step", *(f"{size:,} live" for size in sizes)), rows)
    out += [
        "",
        "Over email_fsm decide at the same size: within each repeat, the contender's time",
        f"over email_fsm's of the same repeat; the median of those ratios (min{DASH}max).",
        "",
    ]
    rows = []
    for key in results["scale"]:
        if key == BASE:
            continue
        for what, label in (("op", "AddComment"), ("create", "create")):
            cells = tuple(_span(_scale_ratios(results, key, size, what, BASE)) for size in sizes)
            rows.append((f"{names[key]}: {label}", *cells))
    out += _table(("contender: step", *(f"{size:,} live" for size in sizes)), rows)
    return [*out, "", *stops] if stops else out


def _point(point: Results | None, what: str) -> str:
    return "—" if point is None else f"{_median(point[what]):,.0f}"


def _memory_section(results: Results) -> list[str]:
    names: dict[str, str] = results["meta"]["names"]
    count = results["meta"]["settings"]["memory_emails"]
    memory: dict[str, float] = results["memory"]
    out = [
        "",
        "## Memory per live email",
        "",
        f"tracemalloc: {count:,} emails taken to Processing by each contender's own steps, no",
        "content, divided by their number (the shared Machine is built beforehand).",
        "",
    ]
    rows = [(names[k], f"{v:,.0f}", f"{v / memory[BASE]:.1f}{TIMES}") for k, v in memory.items()]
    return out + _table(("contender", "bytes per live email", "vs email_fsm"), rows)


def _render_section(results: Results) -> list[str]:
    out = [
        "",
        "## Rendering a notification to JSON",
        "",
        "`Notification.to_json()` of each notification of the Transfer step of the seed",
        "scenario (`email_fsm/data/seed_scenario.json`, step 3).",
        "",
    ]
    rows = [
        (who, str(r["user_data_keys"]), f"{r['bytes']:,}", _ns(r["ns"]))
        for who, r in results["render"].items()
    ]
    header = ("recipient (view state)", "userData keys", "JSON bytes", "ns per notification")
    return out + _table(header, rows)


def _import_section(results: Results) -> list[str]:
    if "import" not in results:
        return []
    section = results["import"]
    commands: dict[str, str] = section["commands"]
    out = [
        "",
        "## Import time",
        "",
        f"Fresh `python -c` processes of {section['python']} ({section['date']}; load average "
        f"{section['load']}): per repeat,",
        "one of each, taking turns (each repeat starting with the next); "
        f"{section['repeats']} repeats after an",
        "untimed round. Milliseconds per process: median (min" + DASH + "max).",
        "",
    ]
    rows: list[Row] = [
        (f"`{commands[key]}`", *(_ms(section[clock][key]) for clock in ("cpu_ns", "wall_ns")))
        for key in commands
    ]
    out += _table(("process", "CPU time (user + system)", "wall-clock"), rows)
    out += [
        "",
        "`import email_fsm` over `import pydantic`: the median of the per-repeat ratios",
        f"(min{DASH}max); *excluding the start-up*: the `pass` process's time of the same repeat",
        "taken off both.",
        "",
    ]
    rows = [
        (
            label,
            *(_span(ratios(section, clock, startup=startup)) for clock in ("cpu_ns", "wall_ns")),
        )
        for label, startup in (("excluding the start-up", False), ("including it", True))
    ]
    return out + _table(("", "CPU time", "wall-clock"), rows)


def _boundary_section(results: Results) -> list[str]:
    if "boundary" not in results:
        return []
    section = results["boundary"]
    meta = section["meta"]
    out = [
        "",
        "## The request boundary against decide",
        "",
        "`email_fsm.requests.handle_request` on the GWS request body (UTF-8 JSON bytes), each",
        "notification rendered with `to_json()`, against `decide` on the same command prepared",
        f"beforehand (`benchmarks/boundary.py`): {meta['repeats']} repeats of a batch of "
        f"{meta['loops']:,} operations",
        "each, both timed in each repeat in an order that alternates; the same emails (one in",
        "Processing) every time, which nothing changes. ns per operation: median",
        f"(min{DASH}max); the ratio: the median of the per-repeat ratios (min{DASH}max).",
    ]
    if "load" in meta:
        out.append(f"Load average {meta['load']}.")
    out.append("")
    rows: list[Row] = [
        (
            name,
            str(entry["notifications"]),
            _ns(entry["boundary_ns"]),
            _ns(entry["decide_ns"]),
            _span(entry["ratios"]),
        )
        for name, entry in section["operations"].items()
    ]
    header = ("operation", "notifications", "boundary", "decide", "boundary over decide")
    return out + _table(header, rows)


def _eviction_section(results: Results) -> list[str]:
    if "eviction" not in results:
        return []
    section = results["eviction"]
    out = [
        "",
        "## Memory of a store, with and without eviction",
        "",
        "`EmailStore.execute` over N inbound lifecycles (Arrive, Offer, Accept, three",
        "AddComment, Complete), with `evict_terminal()` after each lifecycle or never",
        f"(`benchmarks/eviction.py`; {section['date']}, load average {section['load']}).",
        "tracemalloc, from just before the store was made: *current* at the end (garbage",
        "collected) and *peak*; *seconds*: the run's wall-clock time under tracemalloc.",
        "",
    ]
    rows: list[Row] = [
        (
            f"{r['lifecycles']:,}",
            "yes" if r["evict"] else "no",
            f"{r['emails_held']:,}",
            _kib(r["current_bytes"]),
            _kib(r["peak_bytes"]),
            f"{r['current_bytes'] / max(r['lifecycles'], 1):,.0f}",
            f"{r['seconds']:,.1f}",
        )
        for r in section["runs"]
    ]
    header = (
        "lifecycles",
        "eviction",
        "emails held",
        "current",
        "peak",
        "bytes per lifecycle",
        "seconds",
    )
    return out + _table(header, rows)


def _ms(values: Sequence[float]) -> str:
    return f"{_median(values) / 1e6:,.1f} ({min(values) / 1e6:,.1f}{DASH}{max(values) / 1e6:,.1f})"


def plot(results: Results, path: Path) -> None:
    """Cost per step and per creation vs live emails, every scaled contender (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = results["meta"]["names"]
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    for key, scale in results["scale"].items():
        points = scale["points"]
        sizes = sorted(int(s) for s in points)
        for axis, what in zip(axes, ("op", "create"), strict=True):
            costs = [_median(points[str(s)][what]) / 1000 for s in sizes]
            axis.plot(sizes, costs, marker="o", label=names[key])
    titles = ("AddComment on a random live email", "creating an email (Arrive)")
    for axis, title in zip(axes, titles, strict=True):
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("live emails")
        axis.set_ylabel("µs per step (median)")
        axis.set_title(title)
        axis.grid(visible=True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    meta = results["meta"]
    figure.suptitle(f"Cost vs live emails ({meta['python']}, {meta['date']})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
