"""Where the outside programs the tests need are: on ``PATH``, or where Debian puts them.

Debian installs PostgreSQL's server programs under ``/usr/lib/postgresql/<major>/bin``,
off ``PATH``; :func:`find_program` looks there too, so a test marked
``@pytest.mark.needs("postgres")`` runs wherever ``apt-get install postgresql`` has run.
"""

from __future__ import annotations

import glob
import os
import shutil

PROGRAMS = {
    "dot": "Graphviz's `dot` program (Debian/Ubuntu: apt-get install graphviz)",
    "curl": "curl (Debian/Ubuntu: apt-get install curl)",
    "node": "Node.js 18 or later (Debian/Ubuntu: apt-get install nodejs npm)",
    "npm": "npm, Node.js's package manager (Debian/Ubuntu: apt-get install npm)",
    "postgres": "a PostgreSQL server's programs, postgres and initdb "
    "(Debian/Ubuntu: apt-get install postgresql)",
    "chromium": "Chromium (Debian: apt-get install chromium)",
}
"""The outside programs tests may need, and how to get each."""

_ELSEWHERE = {
    "postgres": "/usr/lib/postgresql/*/bin/postgres",
    "initdb": "/usr/lib/postgresql/*/bin/initdb",
    "pg_ctl": "/usr/lib/postgresql/*/bin/pg_ctl",
}
"""Where Debian's packages put a program off ``PATH`` (a glob; the newest version wins)."""


def find_program(name: str) -> str | None:
    """The path of the program ``name``: on ``PATH``, else where Debian puts it, else None."""
    found = shutil.which(name)
    if found is not None:
        return found
    pattern = _ELSEWHERE.get(name)
    if pattern is None:
        return None
    candidates = [p for p in glob.glob(pattern) if os.access(p, os.X_OK)]
    if not candidates:
        return None
    return max(candidates, key=_major)


def _major(path: str) -> int:
    """The PostgreSQL major version in a ``/usr/lib/postgresql/<major>/bin`` path."""
    part = path.split("/postgresql/", 1)[-1].split("/", 1)[0]
    return int(part) if part.isdigit() else 0
