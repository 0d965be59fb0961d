"""email_fsm.diagrams: diagrams and reference tables drawn from the lifecycle table."""

from __future__ import annotations

import importlib.util
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from email_fsm import ALLOWED, TABLE, Operation, Phase, SystemEvent, ViewState
from email_fsm.cli import main
from email_fsm.diagrams import (
    START,
    DiagramEdge,
    MissingToolError,
    capability_matrix,
    dot,
    dot_digest,
    edges,
    image,
    mermaid,
    notifications_table,
    operations_table,
    parse_state,
    readme_with_diagram,
    reference,
    rules_table,
    states,
    svg_digest,
    system_events_table,
    write_generated,
)
from email_fsm.diagrams import main as generate_main
from email_fsm.table import Actor, Branch

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
    assert _moves(found, Operation.REJECT) == {("Invited", "Revoked", Branch.ALWAYS)}
    assert _moves(found, SystemEvent.REVOKE) == {("Invited", "Revoked", Branch.ALWAYS)}
    assert _moves(found, SystemEvent.OFFER) == {(START, "Invited", Branch.ALWAYS)}
    # The transferring agent sees Transferred whatever the target; an agent target is invited.
    assert _moves(found, Operation.TRANSFER) == {
        ("Processing", "Transferred", Branch.ALWAYS),
        ("Composing", "Transferred", Branch.ALWAYS),
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
    assert parse_state("TRANSFERRED", "agent") == "Transferred"
    with pytest.raises(ValueError, match="not a state of the global view"):
        parse_state("Transferred")
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
    assert "Invited --> Revoked: Reject (invitee)<br/>Revoke (system)" in agent


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


def test_svg_records_its_dot_source() -> None:
    source = dot(view="agent", changes_only=True)
    svg = image(source, "svg").decode("utf-8")
    assert svg_digest(svg) == dot_digest(source)
    assert "<title>Transferred</title>" in svg
    assert svg_digest("<svg></svg>") is None


def test_png() -> None:
    assert image(dot(changes_only=True), "png").startswith(b"\x89PNG\r\n\x1a\n")


def test_missing_dot_program_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingToolError, match="Graphviz program 'dot'"):
        image(dot(), "svg")


def test_missing_graphviz_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    real: Callable[..., Any] = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "graphviz" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingToolError, match=r"email-fsm\[diagrams\]"):
        dot()


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
    assert "the target agent (to an agent): StatusChange, Invited, full" in transfer[5]
    assert "`10` rule: transfer target is not the actor" in transfer[6]
    assert rows["AddComment"][1] == "`comment` string, required"
    assert "`1` missing `comment`" in rows["AddComment"][6]
    assert rows["Accept"][5] == "the agent: StatusChange, Processing/Composing, full"
    assert rows["Reject"][5] == "the agent: StatusChange, Revoked, minimal"
    assert "`18` rule: attachment id not yet attached" in rows["AddAttachment"][6]
    assert "`6` rule: attachment id attached" in rows["RemoveAttachment"][6]
    assert rows["Reply"][4] == "unchanged<br>and a new Composing email"
    assert "`18` the new email id is taken" in rows["Reply"][6]


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
    assert events["Revoke"][3] == "the former invitee: StatusChange, Revoked, minimal"
    notices = notifications_table()
    assert "| `Revoke` | Invited | the former invitee | `StatusChange` | Revoked | minimal |" in (
        notices
    )
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
        (["--format", "png"], "give -o FILE for a binary format"),
    ],
)
def test_cli_errors(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(*argv)[0] == 2
    assert message in capsys.readouterr().err


def test_cli_names_the_missing_program(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert _run("--format", "svg", "-o", str(tmp_path / "x.svg")) == (2, "")
    assert "Graphviz program 'dot'" in capsys.readouterr().err
    assert not (tmp_path / "x.svg").exists()
