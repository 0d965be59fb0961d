"""Three server processes on one PostgreSQL, behind a proxy that sends each HTTP request
and each CometD connect to a process chosen at random: the scripted desktop sessions of
the single-process tests pass unchanged (aiocometd's, and the official CometD JavaScript
client's over long-polling), and ``serve --workers`` runs several processes on one port.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiocometd_noloop import ConnectionType  # type: ignore[import-untyped]
from postgres_harness import (  # noqa: F401 - fixtures
    postgres_server,
    postgres_url,
    serving_cluster,
)
from server_harness import HOST, RandomProxy, free_port, kill, spawn, wait_ready
from test_server_aiocometd import desktops
from test_server_cometd_js import (
    PASSWORDS,
    _check_emails,
    _check_final_state,
    _check_login,
    _check_logout,
    _index,
    _run_desktop,
    node_packages,  # noqa: F401 - fixture
)

from email_fsm import DEFAULT_CONFIG

pytestmark = pytest.mark.needs("postgres")


def _agents_file(directory: Path, passwords: dict[str, str]) -> Path:
    path = directory / "agents.json"
    agents = [{"userName": name, "password": password} for name, password in passwords.items()]
    path.write_text(json.dumps({"agents": agents}), "utf-8")
    return path


def test_the_aiocometd_desktops_through_three_processes(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """aiocometd's two desktops (login, offer, Accept, Reply, Send, Complete, Transfer)
    pass with every request and connect sent to a random process of three; each
    process answered some of them."""
    agents = _agents_file(tmp_path, {"alice": "alice-pw", "bob": "bob-pw"})
    arguments = ["--agents", str(agents), "--offer-timeout", "0"]
    arguments += ["--base-url", DEFAULT_CONFIG.base_url, "--no-websocket"]
    with serving_cluster(postgres_url, arguments, cwd=tmp_path) as cluster:
        proxy = RandomProxy(cluster.backends, seed=1)
        with proxy as url:
            asyncio.run(desktops(url, ConnectionType.LONG_POLLING))
    assert len(proxy.forwarded) == 3
    assert all(count > 0 for count in proxy.forwarded.values()), proxy.forwarded


def test_the_official_cometd_client_through_three_processes(
    node_packages: Path,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """The official CometD JavaScript client's two desktops over long-polling, every
    request to a random process of three: the same logins, answers (one numbering of
    referenceIds across the processes), notifications, final state and logouts as
    against one process. The login's cookie, set by one process, is good at the others."""
    proxy_port = free_port()
    url = f"http://{HOST}:{proxy_port}"
    agents = _agents_file(tmp_path, PASSWORDS)
    arguments = ["--agents", str(agents), "--base-url", url]
    with (
        serving_cluster(postgres_url, arguments, cwd=tmp_path) as cluster,
        RandomProxy(cluster.backends, port=proxy_port, seed=2) as served,
    ):
        assert served == url
        records = _run_desktop(url, "long-polling")
        final = httpx.get(f"{url}/sim/emails").json()
    logging_out = _index(records, event="disconnecting", agent="a")
    assert not [r for r in records[:logging_out] if r["event"] == "unsuccessful"]
    for agent in PASSWORDS:
        _check_login(records, agent, transport="long-polling", csrf=False)
    first, draft, second = _check_emails(records, url)
    _check_final_state(final, first=first, draft=draft, second=second)
    _check_logout(records, "long-polling")


def test_workers_serve_on_one_port_and_one_of_them_routes(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """``serve --workers 2``: two processes answer on the one port (each request on a
    new connection reaches either), exactly one of them is the router, and an email
    arriving through one is offered to an agent who logged in through the other."""
    port = free_port()
    base = f"http://{HOST}:{port}"
    process = spawn(["--open", "--workers", "2", "--store", postgres_url], cwd=tmp_path, port=port)
    try:
        wait_ready(base, process, timeout=60)
        statuses: dict[int, bool] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            statuses = {}
            for _ in range(40):
                with httpx.Client(base_url=base, headers={"Connection": "close"}) as client:
                    status = client.get("/sim/status").json()
                statuses[status["pid"]] = status["router"]
            if len(statuses) == 2 and sum(statuses.values()) == 1:
                break
            time.sleep(0.5)
        assert len(statuses) == 2, statuses
        assert sorted(statuses.values()) == [False, True], statuses
        with httpx.Client(base_url=base, auth=("a", "pw")) as agent:
            started = agent.post(
                "/api/v2/me",
                json={"operationName": "StartContactCenterSession", "channels": ["email"]},
            )
            assert started.json() == {"statusCode": 0}
            arrived = agent.post(
                "/sim/events", json={"event": "Arrive", "queueName": "q", "email": {}}
            ).json()
            assert arrived["statusCode"] == 0
            deadline = time.monotonic() + 20
            listed: list[str] = []
            while time.monotonic() < deadline and not listed:
                listed = agent.get("/api/v2/me/emails").json()["uris"]
                time.sleep(0.05)
            assert listed == [f"{base}/api/v2/me/emails/{arrived['emailId']}"]
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            kill(process)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""


def test_workers_refuse_a_store_of_one_process(tmp_path: Path) -> None:
    """``--workers 2`` with an SQLite file (or memory) exits 2 saying why."""
    for store in ("sqlite:///events.sqlite", "memory"):
        finished = subprocess.run(
            [
                sys.executable,
                "-c",
                "from email_fsm.cli import main_entry; main_entry()",
                "serve",
                "--open",
                "--workers",
                "2",
                "--store",
                store,
            ],
            check=False,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert finished.returncode == 2
        assert "--workers 2 needs a store the processes share" in finished.stderr
