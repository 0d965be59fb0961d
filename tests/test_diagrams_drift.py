"""The committed diagrams and tables are what the code generates now.

Fix a failure by running ``make diagrams`` and committing the result.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from email_fsm.diagrams import dot_digest, svg_digest
from scripts.generate_docs import README_END, README_START, generated_files, readme_with_diagram

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"
FIX = "the committed copy is stale: run `make diagrams` and commit the result"


def _svg_node_titles(svg: str) -> set[str]:
    return set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>', svg))


def _dot_node_names(dot_source: str) -> set[str]:
    return set(re.findall(r"^\t(\w+) \[label=", dot_source, flags=re.MULTILINE))


def stale(directory: Path) -> list[str]:
    """What in ``directory`` differs from what ``make diagrams`` writes now (``[]``:
    nothing). SVGs are checked by provenance, not bytes: Graphviz versions lay out
    differently."""
    expected = generated_files()
    problems: list[str] = []
    for name, text in sorted(expected.items()):
        path = directory / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.read_text("utf-8") != text:
            problems.append(f"{name} differs")
        if name.endswith(".dot"):
            svg_path = path.with_suffix(".svg")
            if not svg_path.is_file():
                problems.append(f"{svg_path.name} is missing")
                continue
            svg = svg_path.read_text("utf-8")
            if svg_digest(svg) != dot_digest(text):
                problems.append(f"{svg_path.name} was drawn from another DOT")
            titles = _svg_node_titles(svg)
            if "start" not in titles or titles != _dot_node_names(text):
                problems.append(f"{svg_path.name} draws other states")
    names = set(expected) | {
        n.removesuffix(".dot") + ".svg" for n in expected if n.endswith(".dot")
    }
    problems.extend(
        f"{path.name} is not generated"
        for path in sorted(directory.iterdir())
        if path.name not in names
    )
    return problems


def test_committed_files_match_the_table() -> None:
    problems = stale(GENERATED)
    assert not problems, f"docs/generated: {'; '.join(problems)}: {FIX}"


def test_readme_shows_the_current_lifecycle_diagram() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme == readme_with_diagram(readme), f"README.md's lifecycle diagram: {FIX}"


# The checks above must fail when a copy drifts: drift a fresh copy and see.


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """What ``make diagrams`` writes now, with stand-in SVGs (their digests and states
    right): no ``dot`` program needed."""
    target = tmp_path / "generated"
    target.mkdir()
    for name, text in generated_files().items():
        (target / name).write_text(text, "utf-8")
        if name.endswith(".dot"):
            nodes = "".join(
                f'<g id="node{i}" class="node">\n<title>{state}</title>\n</g>\n'
                for i, state in enumerate(sorted(_dot_node_names(text)), start=1)
            )
            digest = f"<!-- email_fsm: drawn from DOT sha256 {dot_digest(text)} -->"
            svg = f"{digest}\n<svg>\n{nodes}</svg>\n"
            (target / name).with_suffix(".svg").write_text(svg, "utf-8")
    assert stale(target) == []
    return target


def test_an_edited_copy_is_stale(copy: Path) -> None:
    path = copy / "operations.md"
    path.write_text(path.read_text("utf-8").replace("`Transfer`", "`Move`"), "utf-8")
    assert stale(copy) == ["operations.md differs"]


def test_a_missing_or_extra_file_is_stale(copy: Path) -> None:
    (copy / "lifecycle.mmd").unlink()
    (copy / "old.md").write_text("x", "utf-8")
    assert stale(copy) == ["lifecycle.mmd is missing", "old.md is not generated"]


def test_an_svg_of_another_dot_is_stale(copy: Path) -> None:
    lifecycle = (copy / "lifecycle.svg").read_text("utf-8")
    (copy / "agent-view.svg").write_text(lifecycle, "utf-8")
    assert stale(copy) == [
        "agent-view.svg was drawn from another DOT",
        "agent-view.svg draws other states",
    ]
    (copy / "agent-view.svg").unlink()
    assert stale(copy) == ["agent-view.svg is missing"]


def test_a_stale_readme_diagram_is_found() -> None:
    readme = readme_with_diagram(f"# x\n{README_START}\n{README_END}\n")
    assert readme_with_diagram(readme) == readme
    drifted = readme.replace("Processing --> Completed", "Processing --> Done", 1)
    assert drifted != readme
    assert readme_with_diagram(drifted) == readme
