"""The curl session of ``docs/server.md`` runs as the page says, and ``email-fsm serve``
starts as the page says.

The page's ``console`` block is a list of ``$ curl ...`` commands, each followed by the
answer it prints. The test runs each command with a real curl against a real server
(``--open``, the memory store) and compares every answer with the page, the page's
``http://127.0.0.1:8080`` replaced by where the test server listens.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from server_harness import HOST, ThreadedServer, free_port, kill, spawn, wait_ready

from email_fsm.config import Config
from email_fsm.server import Directory, MemoryLog, ServerSettings

PAGE = Path(__file__).resolve().parents[1] / "docs" / "server.md"
DOCUMENTED = "http://127.0.0.1:8080"
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _steps() -> list[tuple[str, str]]:
    """The (command, answer) pairs of the page's console block."""
    (block,) = CONSOLE.findall(PAGE.read_text("utf-8"))
    steps: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], ""))
        else:
            command, answer = steps[-1]
            steps[-1] = (command, answer + line + "\n")
    return steps


def test_the_page_has_a_session_to_run() -> None:
    """The block is there, and every command has one answer line (JSON or text)."""
    steps = _steps()
    assert len(steps) >= 6
    assert all(command.startswith("curl ") for command, _ in steps)
    assert all(answer.count("\n") == 1 for _, answer in steps)


@pytest.mark.needs("curl")
def test_the_curl_session_of_the_page(tmp_path: Path) -> None:
    """Each command prints exactly the answer the page shows."""
    port = free_port()
    url = f"http://{HOST}:{port}"
    settings = ServerSettings(
        directory=Directory.open(), log=MemoryLog(), config=Config(base_url=url)
    )
    with ThreadedServer(settings, port=port):
        for command, answer in _steps():
            done = subprocess.run(
                command.replace(DOCUMENTED, url),
                shell=True,
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
            )
            assert done.returncode == 0, (command, done.stderr)
            expected = answer.replace(DOCUMENTED, url).strip()
            assert done.stdout.strip() == expected, command
            json.loads(done.stdout)  # and every answer is JSON


def test_serve_starts_as_the_page_says(tmp_path: Path) -> None:
    """``email-fsm serve --open --store memory`` prints where it listens, answers GWS
    requests and logs one line per request."""
    port = free_port()
    process = spawn(["--open", "--store", "memory"], cwd=tmp_path, port=port)
    try:
        wait_ready(f"http://{HOST}:{port}", process)
        answer = httpx.get(f"http://{HOST}:{port}/api/v2/me", auth=("alice", ""))
        assert answer.json()["user"]["userName"] == "alice"
    finally:
        kill(process)
    assert process.stderr is not None
    printed = process.stderr.read().decode()
    assert f"serving GWS at http://{HOST}:{port}/api/v2" in printed
    assert "store: memory" in printed


def test_serve_needs_agents_or_open(tmp_path: Path) -> None:
    """Without ``--agents`` or ``--open`` the server does not start, and says why."""
    process = spawn(["--store", "memory"], cwd=tmp_path, port=free_port())
    assert process.wait(20) == 2
    assert process.stderr is not None
    assert "give --agents FILE, or --open" in process.stderr.read().decode()


def test_serve_refuses_a_bad_agents_file(tmp_path: Path) -> None:
    """A malformed agents file is named, with what is wrong, and nothing starts."""
    (tmp_path / "agents.json").write_text('{"agents": [{"password": "x"}]}')
    process = spawn(["--agents", "agents.json"], cwd=tmp_path, port=free_port())
    assert process.wait(20) == 2
    assert process.stderr is not None
    assert "agent 1 needs a string userName" in process.stderr.read().decode()


def test_serve_without_the_server_extra_says_what_to_install() -> None:
    """With uvicorn missing (as without the ``server`` extra), ``email-fsm serve`` exits 2
    and names the extra to install; the rest of the command line still works."""
    probe = (
        "import sys\n"
        "sys.modules['uvicorn'] = None  # as if it were not installed\n"
        "from email_fsm.cli import main\n"
        "status = main(['serve', '--open'])\n"
        "import io\n"
        "out = io.StringIO()\n"
        "print(status, main(['diagram', '--format', 'md'], out))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.stdout.split() == ["2", "0"], done.stderr
    assert "pip install 'email-fsm[server]'" in done.stderr
    assert "uvicorn is missing" in done.stderr


def test_a_second_server_on_the_same_file_is_refused(tmp_path: Path) -> None:
    """One process per SQLite file: a second ``serve`` on it exits 2 with one line, and
    the first keeps serving; once the first is killed (kill -9), the file is free."""
    port = free_port()
    first = spawn(["--open", "--store", "sqlite:///events.sqlite"], cwd=tmp_path, port=port)
    try:
        wait_ready(f"http://{HOST}:{port}", first)
        second = spawn(
            ["--open", "--store", "sqlite:///events.sqlite"], cwd=tmp_path, port=free_port()
        )
        assert second.wait(20) == 2
        assert second.stderr is not None
        assert "is in use by another email-fsm server" in second.stderr.read().decode()
        assert httpx.get(f"http://{HOST}:{port}/api/v2/me", auth=("a", "")).status_code == 200
    finally:
        kill(first)
    third_port = free_port()
    third = spawn(["--open", "--store", "sqlite:///events.sqlite"], cwd=tmp_path, port=third_port)
    try:
        wait_ready(f"http://{HOST}:{third_port}", third)
    finally:
        kill(third)
