"""A smoke run of benchmarks/server (tiny: 2 agents, a second per window; no timing
checks), so that the driver, the report and the plot cannot rot. The committed RESULTS.md
must be what the report code writes from the committed results.json."""

from __future__ import annotations

import asyncio
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from benchmarks.server.driver import LIFECYCLE, percentile
from benchmarks.server.processes import cpu_seconds, rss_kib
from benchmarks.server.report import markdown, plot, targets
from benchmarks.server.suite import Settings, run
from benchmarks.server.wire import Client

HERE = Path(__file__).resolve().parent.parent / "benchmarks" / "server"

FIELDS = {
    "seconds",
    "operations",
    "refused",
    "ops_per_s",
    "http_p50_ms",
    "http_p99_ms",
    "notifications",
    "notification_p50_ms",
    "notification_p99_ms",
    "notifications_missing",
    "notifications_orphan",
    "arrivals",
    "requests",
    "requests_per_op",
    "server_cpu_s",
    "driver_cpu_s",
    "server_cpu_per_op_us",
    "driver_cpu_per_op_us",
    "server_cpu_per_request_us",
    "server_cores",
    "driver_cores",
    "server_waiting",
    "driver_waiting",
    "load",
}


@pytest.fixture(scope="module")
def tiny() -> dict[str, Any]:
    settings = Settings(
        agents=(2,),
        repeats=1,
        window_s=1.0,
        warmup_s=0.2,
        contenders=("memory", "bare"),
        paced_agents=2,
        paced_think_s=0.05,
        paced_repeats=1,
        replay_emails=200,
        replay_repeats=1,
    )
    return run(settings, log=lambda message: None)


def test_every_window_has_its_fields_and_sane_values(tiny: dict[str, Any]) -> None:
    assert sorted(tiny["load"]) == ["bare", "memory"]
    for key, per_agents in tiny["load"].items():
        assert list(per_agents) == ["2"]
        (window,) = per_agents["2"]["repeats"]
        assert set(window) == FIELDS
        assert window["operations"] > 0
        assert window["refused"] == 0
        assert window["ops_per_s"] > 0
        assert 0 < window["http_p50_ms"] <= window["http_p99_ms"]
        assert window["server_cpu_per_op_us"] >= 0
        assert window["driver_cpu_per_op_us"] > 0
        assert window["requests"] >= window["operations"]
        assert window["server_cores"] >= 0
        assert window["driver_cores"] > 0
        # the compiled modules looked for in the server's memory map
        assert set(per_agents["2"]["modules"]) == {"httptools", "uvloop"}
        if key == "memory":
            # Every operation answered with a referenceId got its notification, and no
            # notification was left without its request.
            assert window["notifications"] == window["operations"]
            assert window["notifications_missing"] == window["notifications_orphan"] == 0
            assert 0 < window["notification_p50_ms"] <= window["notification_p99_ms"]
            assert window["arrivals"] > 0
            memory = per_agents["2"]["memory"]
            assert memory["rss_before_kib"] > 0
            assert memory["rss_after_kib"] > 0
        else:
            assert window["notifications"] == 0
            assert "memory" not in per_agents["2"]


def test_the_paced_section_runs_the_server_only(tiny: dict[str, Any]) -> None:
    assert list(tiny["paced"]) == ["memory"]
    (window,) = tiny["paced"]["memory"]["2"]["repeats"]
    assert set(window) == FIELDS
    assert window["operations"] > 0
    assert window["notifications"] == window["operations"]
    assert window["notifications_missing"] == window["notifications_orphan"] == 0


def test_the_replay_rebuilds_what_fresh_decisions_built(tiny: dict[str, Any]) -> None:
    replay = tiny["replay"]
    assert replay["emails"] == 200
    assert replay["events"] == 200 * len(replay["steps"]) == 1000
    for key in ("fresh_cpu_s", "fresh_wall_s", "replay_cpu_s", "replay_wall_s"):
        assert len(replay[key]) == 1
        assert all(math.isfinite(value) and value > 0 for value in replay[key])
    assert set(replay["parts"]) == {"fetch_s", "decode_s", "evolve_s"}
    assert replay["profile"]
    assert all(row["own_s"] >= 0 for row in replay["profile"])


def test_the_report_and_the_plot(tiny: dict[str, Any], tmp_path: Path) -> None:
    text = markdown(tiny)
    assert text.startswith("# Server benchmark results")
    assert "| memory | 2 |" in text
    assert "| bare | 2 |" in text
    items = [row[0] for row in targets(tiny)]
    assert "in-memory vs the bare endpoint" in items
    assert any(item.startswith("restart: replay") for item in items)
    plot(tiny, tmp_path / "server.png")
    assert (tmp_path / "server.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_committed_results_md_is_what_the_report_writes() -> None:
    results = json.loads((HERE / "results.json").read_text())
    assert (HERE / "RESULTS.md").read_text() == markdown(results)


def test_the_machine_names_the_stack(tiny: dict[str, Any]) -> None:
    stack = tiny["meta"]["stack"]
    assert {"server_http", "server_loop", "driver_loop", "driver_http"} <= set(stack)
    assert "uvicorn `Config(http=" in markdown(tiny)


def test_the_wire_client_reads_chunks_keeps_the_cookie_and_reconnects() -> None:
    """A chunked answer with a cookie, then the server closes the idle connection: the
    next request goes out again on a new one, with the cookie."""
    seen: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        seen.append(head)
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Set-Cookie: JSESSIONID=s1; Path=/\r\n\r\n"
            b"3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n"
        )
        await writer.drain()
        writer.close()  # as uvicorn's keep-alive timeout does

    async def main() -> None:
        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = Client(f"http://127.0.0.1:{port}")
        first = await client.post("/a", b"{}")
        await asyncio.sleep(0.05)
        second = await client.post("/b", b"{}")
        assert first.status == second.status == 200
        assert first.json() == second.json() == [1, 2]
        assert client.cookies == {"JSESSIONID": "s1"}
        assert client.answered == 2
        assert b"Cookie: JSESSIONID=s1" in seen[1]
        await client.aclose()
        server.close()
        await server.wait_closed()

    asyncio.run(main())


def test_the_helpers() -> None:
    assert percentile([], 0.99) == 0.0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 101)], 0.99) == 99.0
    assert [name for name, _ in LIFECYCLE] == [
        "Accept",
        "AddComment",
        "AddComment",
        "AddComment",
        "Complete",
    ]
    assert cpu_seconds(os.getpid()) > 0
    assert rss_kib(os.getpid()) > 0
