"""Copy the official CometD JavaScript client into the server's static files.

The agent desktop (``/desktop``) runs npm's ``cometd`` package in the browser, as
ECMAScript modules. The server serves a copy from the Python package
(``email_fsm/server/static/vendor/cometd/``), so that ``email-fsm serve`` needs no npm
at run time. The copy is of the version ``tests/node/package-lock.json`` pins; refresh
it after changing that lock::

    (cd tests/node && npm ci) && python scripts/vendor_cometd.py

``tests/test_desktop_assets.py`` fails when the copy differs from ``node_modules``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tests" / "node" / "node_modules" / "cometd"
LOCK = ROOT / "tests" / "node" / "package-lock.json"
VENDOR = ROOT / "email_fsm" / "server" / "static" / "vendor" / "cometd"


def vendored_names(package: Path = PACKAGE) -> list[str]:
    """The files of the npm package the browser needs: its modules, its licence and its
    ``package.json`` (which names the version)."""
    names = sorted(path.name for path in package.glob("*.js"))
    return [*names, "LICENSE", "package.json"]


def main() -> int:
    """Copy the files; exit 1 when ``node_modules`` is not the locked version."""
    locked = json.loads(LOCK.read_text("utf-8"))["packages"]["node_modules/cometd"]["version"]
    installed = json.loads((PACKAGE / "package.json").read_text("utf-8"))["version"]
    if installed != locked:
        print(
            f"node_modules has cometd {installed}, the lock {locked}: run npm ci in tests/node",
            file=sys.stderr,
        )
        return 1
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    VENDOR.mkdir(parents=True)
    for name in vendored_names():
        shutil.copyfile(PACKAGE / name, VENDOR / name)
    where = VENDOR.relative_to(ROOT)
    print(f"copied cometd {installed} ({len(vendored_names())} files) to {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
