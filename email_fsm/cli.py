"""The ``email-fsm`` command line: run scenarios through the model.

- ``email-fsm demo [--json]``: the example of the GWS EmailTransfer page, told step by
  step by the model (with one refused request); ``--json`` prints the replay records.
- ``email-fsm replay SCENARIO.json``: one JSON object per line (see
  :func:`email_fsm.scenario.run_scenario`); exit 0 when the scenario ran, 2 with a
  one-line error when the file cannot be read or is malformed.
- ``email-fsm diagram --format mermaid|dot|svg|png|md|html [--view agent|global]
  [--highlight STATE] [-o FILE]``: the lifecycle diagram or the reference tables (see
  :mod:`email_fsm.diagrams`).
- ``email-fsm serve [--host H] [--port P] [--store memory|sqlite:///PATH] [--agents FILE |
  --open] [--csrf] ...``: a GWS-compatible server for agent desktops (the ``server``
  extra; see :mod:`email_fsm.server` and ``docs/server.md``).
- ``email-fsm simulate SCENARIO.toml|.json [--out DIR] [--seed N] [--reps N]
  [--compare OTHER | --without-policy NAME] [--workers N]``: the contact-center
  simulator (the ``sim`` extra; see :mod:`email_fsm.sim` and ``docs/simulation.md``): a
  KPI table, and with ``--out`` the KPIs as JSON, the intervals as CSV and plots; a
  what-if on paired replications with ``--compare`` or ``--without-policy``.
- ``email-fsm sweep SCENARIO --vary agents=A..B|rate=A..B [--group G] [--queue Q]
  [--reps N] [--workers N] [--dask ADDRESS|local] [--out DIR]``: replications for each
  value, on a process pool or a Dask cluster (the ``sweep`` extra for ``--dask``), and the
  staffing plot.
- ``email-fsm --version``: the package version.

The page ``docs/cli.md`` describes each command and the scenario file format.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from importlib import resources
from typing import Any, TextIO

from . import __version__
from .decisions import StatusCode
from .scenario import AgentStep, Scenario, ScenarioError, load_scenario, run_scenario

__all__ = ["BROKEN_PIPE_STATUS", "DEMO_SCENARIO", "demo_scenario_text", "main", "main_entry"]

DEMO_SCENARIO = "seed_scenario.json"
"""The bundled scenario ``email-fsm demo`` runs (in ``email_fsm/data``)."""

BROKEN_PIPE_STATUS = 128 + signal.SIGPIPE if hasattr(signal, "SIGPIPE") else 1
"""The exit status when the reader of standard output goes away (``email-fsm demo | head``):
the shell's status for a process killed by SIGPIPE (141), or 1 where there is no SIGPIPE."""

_WIDTH = 80
"""The story's lines are wrapped to fit a classic terminal."""


def demo_scenario_text() -> str:
    """The text of the bundled demo scenario."""
    return resources.files("email_fsm").joinpath("data", DEMO_SCENARIO).read_text("utf-8")


# JSON leaves these unescaped, but str.splitlines() and many line readers break on
# them: escaped, every record stays on one line whatever its text.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _print_records(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS) + "\n")


def _fill(atoms: Iterable[str], indent: int, hanging: int = 0) -> str:
    """``atoms`` joined by spaces, in lines of at most :data:`_WIDTH` characters (an atom
    is never broken): the first indented by ``indent`` spaces, the others ``hanging`` more.
    """
    lines: list[str] = []
    line = ""
    for atom in atoms:
        if line and len(line) + 1 + len(atom) > _WIDTH:
            lines.append(line)
            line = " " * (indent + hanging) + atom
        elif line:
            line += " " + atom
        else:
            line = " " * indent + atom
    return "\n".join([*lines, line])


def _items(items: Sequence[str], separator: str) -> list[str]:
    """Each item an atom, followed by ``separator`` but the last."""
    return [item + separator for item in items[:-1]] + list(items[-1:])


def _describe_step(step: object) -> tuple[str, str]:
    """The step's line, and the JSON of the request's parameters (or "")."""
    if isinstance(step, AgentStep):
        request = step.request
        name = request.get("operationName") if isinstance(request, dict) else None
        params = (
            {k: v for k, v in request.items() if k != "operationName"}
            if isinstance(request, dict)
            else {}
        )
        target = step.email_id or step.new_email_id or ""
        text = f"agent {step.agent}: {name} {target}".rstrip()
        if step.new_email_id and step.email_id:
            text += f" (new email {step.new_email_id})"
        return text, json.dumps(params, ensure_ascii=False) if params else ""
    kind = type(step).__name__
    detail = {
        "Arrive": lambda s: f"email {s.email_id} arrives in queue {s.queue!r}: {s.subject!r}",
        "Offer": lambda s: f"routing offers email {s.email_id} to agent {s.agent}",
        "Revoke": lambda s: f"the invitation for email {s.email_id} is withdrawn",
    }[kind](step)
    return f"system: {detail}", ""


def _describe_response(response: dict[str, Any]) -> str:
    code = response["statusCode"]
    text = f"<- statusCode {code} ({StatusCode(code).name})"
    if "statusMessage" in response:
        text += f": {response['statusMessage']}"
    return text


def _describe_notification(record: dict[str, Any]) -> list[list[str]]:
    """The notification's lines, each as the atoms :func:`_fill` may not break."""
    data = record["message"]["data"]
    email = data["email"]
    ref = f" referenceId={data['referenceId']}" if "referenceId" in data else ""
    header = (
        f"-> to {record['to']}: {data['notificationType']} email {email['id']} "
        f"state={email['state']}{ref}"
    )
    lines = [
        header.split(" "),
        ["capabilities:", *(_items(email["capabilities"], ",") or ["(none)"])],
    ]
    # Every notification carries the whole email: its content fields follow these four.
    content = [k for k in email if k not in ("id", "state", "capabilities", "uri")]
    if content:
        shown = []
        for key in content:
            value = email[key]
            if isinstance(value, dict):
                shown.append(f"{key} ({len(value)} {'key' if len(value) == 1 else 'keys'})")
            elif isinstance(value, list) and value and isinstance(value[0], str):
                shown.append(f"{key}={','.join(value)}")
            elif isinstance(value, str) and len(value) <= 40:
                shown.append(f"{key}={value!r}")
            else:
                shown.append(key)
        lines.append(["email:", *_items(shown, ";")])
    else:
        lines.append(["email:", "(no", "content)"])
    return lines


_LEGEND = """\
How to read it:
  [n] system: ...   step n: the contact center acts (an email arrives, routing
                    offers it to an agent)
  [n] agent X: OP   step n: agent X sends the GWS request OP (its other
                    parameters follow, as JSON)
      <- statusCode the answer to the request: 0 (OK), or the code refusing
                    it, and why
      -> to X: ...  a notification to agent X: its type, the email, its state
                    as X sees it, and the referenceId of X's request it answers
         capabilities: what X may request on the email now
         email: the whole email's content (abridged), whatever the state
"""


def _print_story(scenario: Scenario, out: TextIO) -> None:
    out.write("email-fsm demo: the example of the GWS EmailTransfer page, told by the model\n\n")
    out.write(_LEGEND + "\n")
    described = 0

    def describe_until(index: int) -> int:
        for i in range(described, index + 1):
            text, params = _describe_step(scenario.steps[i])
            line = f"[{i}] {text}"
            if params and len(line) + 1 + len(params) <= _WIDTH:
                out.write(f"{line} {params}\n")
            else:
                out.write(_fill(line.split(" "), 0, 4) + "\n")
                if params:
                    out.write(_fill(params.split(" "), 4) + "\n")
        return max(described, index + 1)

    for record in run_scenario(scenario):
        described = describe_until(record["step"])
        if "response" in record:
            out.write(_fill(_describe_response(record["response"]).split(" "), 4, 3) + "\n")
        if "message" in record:
            header, *details = _describe_notification(record)
            out.write(_fill(header, 4, 3) + "\n")
            for atoms in details:
                out.write(_fill(atoms, 7, 2) + "\n")
    describe_until(len(scenario.steps) - 1)
    out.write("\nRun `email-fsm demo --json` for the GWS messages themselves.\n")


_KEEP_LINES = argparse.RawDescriptionHelpFormatter
"""Help that keeps the line breaks of the descriptions and of the examples."""


def _examples(*lines: str) -> str:
    return "examples:\n" + "".join(f"  {line}\n" for line in lines)


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``email-fsm serve`` (:func:`email_fsm.server.run.settings_from`
    reads them); defined here so that ``--help`` works without the server extra."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    parser.add_argument(
        "--store",
        default="sqlite:///email-fsm.sqlite",
        help="memory, sqlite:///PATH or a file path (default: email-fsm.sqlite here)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["full", "normal"],
        default="full",
        help="SQLite's durability: full survives power loss; normal only crashes, faster",
    )
    who = parser.add_mutually_exclusive_group()
    who.add_argument(
        "--agents", metavar="FILE", help='JSON: {"agents": [{"userName", "password"}]}'
    )
    who.add_argument(
        "--open", action="store_true", help="accept any user name and password (development)"
    )
    parser.add_argument("--csrf", action="store_true", help="require GWS's X-CSRF-TOKEN on POSTs")
    parser.add_argument(
        "--capacity", type=int, default=1, help="emails an agent may hold before no more offers (1)"
    )
    parser.add_argument(
        "--offer-timeout",
        type=float,
        default=30.0,
        help="seconds before an invitation not accepted is revoked (30; 0: never)",
    )
    parser.add_argument("--no-router", action="store_true", help="offer only through /sim/events")
    parser.add_argument(
        "--base-url", help="the base of every email uri (default: http://HOST:PORT)"
    )
    parser.add_argument(
        "--no-websocket", action="store_true", help="offer CometD over long-polling only"
    )
    parser.add_argument("--quiet", action="store_true", help="no line per request")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="serve with N processes sharing the store (needs --store postgresql://...)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="emails arrive and two bots work them; agents alice, bob, carol "
        "(password: the name) unless --agents/--open; store memory unless --store",
    )
    parser.add_argument(
        "--no-inspector", action="store_true", help="do not serve the live inspector (/inspector)"
    )


def _simulator_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``simulate`` and ``sweep`` share."""
    parser.add_argument("scenario", metavar="SCENARIO", help="a simulation scenario (.toml, .json)")
    parser.add_argument("--out", metavar="DIR", help="write the results and plots into DIR")
    parser.add_argument("--seed", type=int, help="replace the scenario's seed")
    parser.add_argument("--reps", type=int, metavar="N", help="replications")
    parser.add_argument(
        "--workers", type=int, metavar="N", help="processes for replications (default: cores)"
    )


def _simulate_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``email-fsm simulate`` (defined here: ``--help`` without the
    ``sim`` extra)."""
    _simulator_arguments(parser)
    what_if = parser.add_mutually_exclusive_group()
    what_if.add_argument(
        "--compare", metavar="OTHER", help="another scenario to compare with, on the same seeds"
    )
    what_if.add_argument(
        "--without-policy",
        metavar="NAME",
        help="compare with the scenario without this policy (its path or name)",
    )


def _sweep_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``email-fsm sweep``."""
    _simulator_arguments(parser)
    parser.add_argument(
        "--vary",
        required=True,
        metavar="WHAT=VALUES",
        help="agents=A..B, agents=A..B:STEP, rate=A..B:STEP or a list: agents=8,10,12",
    )
    parser.add_argument("--group", metavar="NAME", help="the agent group agents= varies")
    parser.add_argument("--queue", metavar="NAME", help="the queue rate= varies")
    parser.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run on the Dask scheduler at ADDRESS, or on a local cluster: local",
    )


def _parser() -> argparse.ArgumentParser:
    # Imported here, not at the top: only `email-fsm diagram` needs it, and it does not
    # load the drawing libraries (only its run does).
    from .diagrams import cli as diagram_cli

    parser = argparse.ArgumentParser(
        prog="email-fsm",
        description=(
            "A model of the email lifecycle of the Genesys Web Services (GWS) Email API\n"
            "v2: what happens when emails arrive and agents send requests (Accept,\n"
            "Transfer, Reply, Complete, ...), and what the agents are told."
        ),
        epilog=_examples(
            "email-fsm demo                    # the model tells a worked example",
            "email-fsm replay scenario.json    # run your own scenario file",
            "email-fsm diagram > lifecycle.mmd # the lifecycle as a Mermaid diagram",
            "email-fsm serve --open            # a GWS server for agent desktops",
            "email-fsm simulate support.toml   # simulate a contact center",
            "email-fsm COMMAND --help          # more about one command",
        ),
        formatter_class=_KEEP_LINES,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, title="commands", metavar="COMMAND"
    )
    demo = commands.add_parser(
        "demo",
        help="tell, step by step, how the model runs the GWS EmailTransfer example",
        description=(
            "Run the example of the GWS EmailTransfer documentation page through the\n"
            "model and tell it step by step: an email arrives and is offered to agent a,\n"
            "who accepts it and transfers it to agent b; a, no longer its holder, tries\n"
            "to complete it and is refused; b accepts it, replies, sends the reply and\n"
            "completes the email. Every response and notification is shown."
        ),
        epilog=_examples(
            "email-fsm demo",
            "email-fsm demo --json | head -3",
        ),
        formatter_class=_KEEP_LINES,
    )
    demo.add_argument(
        "--json",
        action="store_true",
        help="print the records `email-fsm replay` prints (one JSON object per line)",
    )
    replay = commands.add_parser(
        "replay",
        help="run a scenario file; print each response and notification as a JSON line",
        description=(
            "Run a scenario file (system events and agent requests, in order) through\n"
            "the model and print one JSON object per line: the response to each agent\n"
            "request, each refused system event, and each notification sent. Refused\n"
            "steps are part of a scenario: the exit status is 0 when the scenario ran,\n"
            "2 when the file cannot be read or is malformed. The format of the file is\n"
            "described in the documentation (docs/cli.md)."
        ),
        epilog=_examples(
            "email-fsm replay scenario.json",
            "email-fsm replay - < scenario.json",
        ),
        formatter_class=_KEEP_LINES,
    )
    replay.add_argument("scenario", metavar="SCENARIO", help="a scenario file ('-': read stdin)")
    diagram = commands.add_parser(
        "diagram",
        help="draw the lifecycle (Mermaid, Graphviz, SVG, PNG) or print its reference",
        description=(
            "Draw the email lifecycle, from the model's own table, or print its\n"
            "reference tables (operations, capabilities, notifications, rules).\n"
            "SVG and PNG need Graphviz's `dot` program."
        ),
        epilog=_examples(
            "email-fsm diagram > lifecycle.mmd",
            "email-fsm diagram --format svg --view agent --highlight processing -o agent.svg",
            "email-fsm diagram --format md -o reference.md",
        ),
        formatter_class=_KEEP_LINES,
    )
    diagram_cli.add_arguments(diagram)
    serve = commands.add_parser(
        "serve",
        help="run a GWS-compatible server (HTTP API and CometD) for agent desktops",
        description=(
            "Serve the GWS Email API v2 and its CometD notifications, backed by the\n"
            "model, for agent desktops to log in to (docs/server.md). Needs the server\n"
            "extra: pip install 'email-fsm[server]'."
        ),
        epilog=_examples(
            "email-fsm serve --open --store memory",
            "email-fsm serve --agents agents.json --store sqlite:///events.sqlite --csrf",
        ),
        formatter_class=_KEEP_LINES,
    )
    _serve_arguments(serve)
    simulate = commands.add_parser(
        "simulate",
        help="simulate a contact center: service level, backlog, occupancy, refusals",
        description=(
            "Simulate a contact center described by a scenario (queues, agent groups,\n"
            "routing, business rules; docs/simulation.md), every action decided by the\n"
            "model, and print its KPIs. --compare or --without-policy runs a what-if:\n"
            "both scenarios on the same seeds, --reps times (10), and each KPI's\n"
            "difference with a 95% interval. Needs the sim extra:\n"
            "pip install 'email-fsm[sim]'."
        ),
        epilog=_examples(
            "email-fsm simulate support.toml --out results/",
            "email-fsm simulate support.toml --without-policy require_disposition --reps 20",
            "email-fsm simulate support.toml --compare more-agents.toml",
        ),
        formatter_class=_KEEP_LINES,
    )
    _simulate_arguments(simulate)
    sweep = commands.add_parser(
        "sweep",
        help="replicate a scenario for each staffing (or arrival rate): the staffing curve",
        description=(
            "Replicate a simulation scenario --reps times (20) for each value of --vary\n"
            "(the agents of a group, or a queue's arrival rate), every value on the same\n"
            "seeds, on a process pool or a Dask cluster (--dask, the sweep extra), and\n"
            "print each KPI's mean with a 95% interval; --out writes sweep.json,\n"
            "sweep.csv and staffing.png. Needs the sim extra:\n"
            "pip install 'email-fsm[sim]'."
        ),
        epilog=_examples(
            "email-fsm sweep support.toml --vary agents=8..16 --group tier1 --out staffing/",
            "email-fsm sweep support.toml --vary rate=100..200:25 --queue support --reps 10",
            "email-fsm sweep support.toml --vary agents=8..16 --dask tcp://scheduler:8786",
        ),
        formatter_class=_KEEP_LINES,
    )
    _sweep_arguments(sweep)
    return parser


def _diagram(args: argparse.Namespace, out: TextIO) -> int:
    from .diagrams import cli as diagram_cli

    try:
        return diagram_cli.run(args, out)
    except BrokenPipeError:
        raise
    except OSError as error:
        path = error.filename if error.filename is not None else args.output
        reason = error.strerror or error
        print(f"email-fsm diagram: cannot write {path}: {reason}", file=sys.stderr)
        return 2


def _replay(path: str, out: TextIO) -> int:
    try:
        if path == "-":
            text: str | bytes = sys.stdin.buffer.read()
        else:
            with open(path, "rb") as handle:
                text = handle.read()
        scenario = load_scenario(text)
    except OSError as error:
        print(f"email-fsm: cannot read {path}: {error.strerror}", file=sys.stderr)
        return 2
    except ScenarioError as error:
        print(f"email-fsm: {path}: {error}", file=sys.stderr)
        return 2
    _print_records(run_scenario(scenario), out)
    return 0


def _serve(args: argparse.Namespace) -> int:
    try:
        from .server import run
    except ImportError as error:
        print(
            f"email-fsm serve needs the server extra ({error.name} is missing): "
            "pip install 'email-fsm[server]'",
            file=sys.stderr,
        )
        return 2
    try:
        settings = run.settings_from(args)
    except (ValueError, OSError) as error:
        print(f"email-fsm serve: {error}", file=sys.stderr)
        return 2
    run.serve(settings, host=args.host, port=args.port, quiet=args.quiet, workers=args.workers)
    return 0


def _simulator(args: argparse.Namespace, out: TextIO) -> int:
    try:
        from .sim import cli as sim_cli
    except ImportError as error:
        print(
            f"email-fsm {args.command} needs the sim extra ({error.name} is missing): "
            "pip install 'email-fsm[sim]'",
            file=sys.stderr,
        )
        return 2
    if args.command == "simulate":
        return sim_cli.run_simulate(args, out)
    return sim_cli.run_sweep(args, out)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``), writing to ``out``
    (default: standard output); returns the exit status.

    Usage errors (an unknown command or option) exit 2 through :mod:`argparse`, as
    ``--help`` and ``--version`` exit 0.
    """
    out = sys.stdout if out is None else out
    args = _parser().parse_args(argv)
    if args.command == "diagram":
        return _diagram(args, out)
    if args.command == "serve":
        return _serve(args)
    if args.command in ("simulate", "sweep"):
        return _simulator(args, out)
    if args.command == "demo":
        scenario = load_scenario(demo_scenario_text())
        if args.json:
            _print_records(run_scenario(scenario), out)
        else:
            _print_story(scenario, out)
        return 0
    return _replay(args.scenario, out)


def main_entry() -> None:
    """Console-script entry point: exit with :func:`main`'s status.

    When the reader of standard output goes away (``email-fsm demo | head -1``), exit
    with :data:`BROKEN_PIPE_STATUS` and no traceback, as the :mod:`signal` module's
    documentation recommends for ``BrokenPipeError``.
    """
    try:
        status = main()
        # Flush here, inside the try, so that a closed pipe is noticed now.
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes the standard streams on exit: point stdout at devnull so that
        # this last flush cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(BROKEN_PIPE_STATUS)
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main_entry()
