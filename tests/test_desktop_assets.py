"""The desktop's copy of the official CometD client is npm's, at the locked version.

``email_fsm/server/static/vendor/cometd/`` is served to the browser so that the server
needs no npm at run time; ``scripts/vendor_cometd.py`` writes it from
``tests/node/node_modules`` (after ``npm ci``, which the fixture runs). This test fails
when the copy differs from what ``tests/node/package-lock.json`` installs.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from test_server_cometd_js import node_packages  # noqa: F401  (the npm ci fixture)

from email_fsm.server.inspector import STATIC

ROOT = Path(__file__).resolve().parent.parent
VENDOR = STATIC / "vendor" / "cometd"


def _script() -> object:
    spec = importlib.util.spec_from_file_location(
        "vendor_cometd", ROOT / "scripts" / "vendor_cometd.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.needs("npm")
def test_the_vendored_cometd_client_is_the_locked_npm_package(node_packages: Path) -> None:  # noqa: F811
    """Every file the browser loads is byte for byte the installed package's, and no
    other file is there; the version is the lock file's."""
    package = node_packages / "cometd"
    names: list[str] = _script().vendored_names(package)  # type: ignore[attr-defined]
    assert "cometd.js" in names
    assert "Client.js" in names
    assert sorted(path.name for path in VENDOR.iterdir()) == sorted(names)
    for name in names:
        assert (VENDOR / name).read_bytes() == (package / name).read_bytes(), (
            f"{name} differs from npm's: run python scripts/vendor_cometd.py"
        )
    lock = json.loads((ROOT / "tests" / "node" / "package-lock.json").read_text("utf-8"))
    locked = lock["packages"]["node_modules/cometd"]["version"]
    assert json.loads((VENDOR / "package.json").read_text("utf-8"))["version"] == locked


def test_the_vendored_client_is_complete_without_npm() -> None:
    """Without npm: every module the copy imports is in the copy (a fresh clone serves a
    desktop that loads), and its licence travels with it."""
    sources = {path.name: path.read_text("utf-8") for path in VENDOR.glob("*.js")}
    assert "cometd.js" in sources
    for name, text in sources.items():
        for line in text.splitlines():
            stripped = line.strip()
            if stripped.startswith(("import ", "export * from", "export {")) and '"./' in line:
                target = stripped.split('"./', 1)[1].split('"', 1)[0]
                assert target in sources, f"{name} imports {target}, not vendored"
    assert "Apache License" in (VENDOR / "LICENSE").read_text("utf-8")
