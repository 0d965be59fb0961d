"""The screenshots in ``docs/images/desktop/`` show what the pages show today.

``make screenshots`` writes each PNG with a JSON sidecar: the text the page showed at
capture time (``scripts/screenshots.py``). This test plays the same scene in Chromium
and compares that text with the committed sidecars: when the desktop or the inspector
changes what they show, it fails until the screenshots are regenerated.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest
from browser import chromium
from server_harness import ThreadedServer

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images" / "desktop"

pytestmark = pytest.mark.needs("chromium")


def _script() -> ModuleType:
    path = ROOT / "scripts" / "screenshots.py"
    spec = importlib.util.spec_from_file_location("screenshots", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_screenshots_show_what_the_pages_show() -> None:
    """Every shot's PNG and sidecar are committed, and the sidecar is what the scene
    shows now."""
    script = _script()
    with ThreadedServer(script.settings()) as url, chromium() as browser:
        shots = script.capture(browser, url, None)
    assert sorted(shots) == sorted(script.SHOTS)
    for name, text in shots.items():
        assert (OUT / f"{name}.png").stat().st_size > 10_000, name
        committed = (OUT / f"{name}.json").read_text("utf-8")
        assert script.sidecar(text) == committed, (
            f"{name}: the page shows something else now: run make screenshots\n"
            f"{json.dumps(text, indent=2)}"
        )
    # The scene shows what the documentation says it shows.
    assert shots["desktop"]["answer"].startswith("Transfer: statusCode 10")
    assert shots["desktop-reply"]["compose"] is True
    assert ["E1", "Processing"] in shots["inspector"]["markers"]
    assert ["Transfer", "false", "10"] in shots["inspector"]["entries"]
