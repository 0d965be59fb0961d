"""The committed diagrams and tables are what the code generates now.

Fix a failure by running ``make diagrams`` and committing the result.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from email_fsm.diagrams import dot_digest, generated_files, readme_with_diagram, svg_digest

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT / "docs" / "generated"
FIX = "the committed copy is stale: run `make diagrams` and commit the result"


@pytest.mark.parametrize("name", sorted(generated_files()))
def test_committed_file_matches_the_table(name: str) -> None:
    path = GENERATED / name
    assert path.is_file(), f"docs/generated/{name} is missing: {FIX}"
    assert path.read_text("utf-8") == generated_files()[name], f"docs/generated/{name}: {FIX}"


def test_no_stray_generated_files() -> None:
    expected = set(generated_files())
    expected |= {name.removesuffix(".dot") + ".svg" for name in expected if name.endswith(".dot")}
    assert {path.name for path in GENERATED.iterdir()} == expected, FIX


def _svg_node_titles(svg: str) -> set[str]:
    return set(re.findall(r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>', svg))


def _dot_node_names(dot_source: str) -> set[str]:
    return set(re.findall(r"^\t(\w+) \[label=", dot_source, flags=re.MULTILINE))


@pytest.mark.parametrize("name", sorted(n for n in generated_files() if n.endswith(".dot")))
def test_committed_svg_was_drawn_from_the_current_dot(name: str) -> None:
    # Graphviz versions lay out differently: check the SVG's provenance, not its bytes.
    svg_path = GENERATED / name.replace(".dot", ".svg")
    assert svg_path.is_file(), f"{svg_path.name} is missing: {FIX}"
    svg = svg_path.read_text("utf-8")
    dot_source = generated_files()[name]
    assert svg_digest(svg) == dot_digest(dot_source), f"{svg_path.name}: {FIX}"
    titles = _svg_node_titles(svg)
    assert "start" in titles, svg_path.name
    assert titles == _dot_node_names(dot_source), f"{svg_path.name}: {FIX}"


def test_readme_shows_the_current_lifecycle_diagram() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme == readme_with_diagram(readme), f"README.md's lifecycle diagram: {FIX}"
