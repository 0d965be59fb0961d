"""The project stands alone: no tracked file points at documents outside the repository.

The domain specification the library implements is ``docs/spec.md``. No tracked file may
refer to a specification file kept beside the repository, nor to a folder next to it:
the patterns below are built from pieces so that this file does not match itself.
Lock files (``*.lock``) are left out: they are written by tools.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

FORBIDDEN: tuple[bytes, ...] = (
    b"SPEC" + b".md",  # case-sensitive: docs/spec.md itself is fine
    b".." + b"/shared",
)
"""Byte strings no tracked file may contain."""


def _tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("needs git, to list the tracked files")
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=False)
    if listing.returncode != 0:
        pytest.skip(f"not a git work tree: {listing.stderr.decode(errors='replace').strip()}")
    return [name for name in listing.stdout.decode("utf-8").split("\0") if name]


def offending_lines(root: Path, names: list[str]) -> list[str]:
    """``path:line: text`` for every line of ``names`` (under ``root``) with a pattern.

    A path that contains a pattern is reported too (``path: (in the path)``); files
    that are tracked but absent from the work tree are skipped.
    """
    found: list[str] = []
    for name in names:
        if name.endswith(".lock"):
            continue
        if any(pattern.decode() in name for pattern in FORBIDDEN):
            found.append(f"{name}: (in the path)")
        path = root / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if not any(pattern in data for pattern in FORBIDDEN):
            continue
        for number, line in enumerate(data.splitlines(), start=1):
            if any(pattern in line for pattern in FORBIDDEN):
                text = line.decode("utf-8", errors="replace").strip()
                found.append(f"{name}:{number}: {text[:200]}")
    return found


def test_offending_lines_finds_each_pattern(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_bytes(b"fine\nsee " + FORBIDDEN[0] + b" section 2\n")
    (tmp_path / "b.py").write_bytes(b"x = 1\n# copied from " + FORBIDDEN[1] + b"/fixtures\n")
    (tmp_path / "c.lock").write_bytes(FORBIDDEN[0] + b"\n")
    (tmp_path / "d.txt").write_bytes(b"docs/spec.md and spec.md are fine\n")
    names = ["a.md", "b.py", "c.lock", "d.txt", "gone.md"]
    assert offending_lines(tmp_path, names) == [
        f"a.md:2: see {FORBIDDEN[0].decode()} section 2",
        f"b.py:2: # copied from {FORBIDDEN[1].decode()}/fixtures",
    ]


def test_no_tracked_file_refers_outside_the_repository() -> None:
    names = _tracked_files()
    assert "docs/spec.md" in names, "docs/spec.md, the domain specification, is not tracked"
    found = offending_lines(ROOT, names)
    if found:
        pytest.fail(
            f"{len(found)} line(s) refer to documents outside the repository; "
            "refer to docs/spec.md and its section instead:\n" + "\n".join(found),
            pytrace=False,
        )
