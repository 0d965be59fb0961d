"""A smoke run of benchmarks/eviction.py (tiny sizes, no timing checks), so that it cannot rot."""

from __future__ import annotations

import pytest

from benchmarks.eviction import QUICK_SIZES, main, measure


def test_quick_run_prints_a_row_per_size_and_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 2 * len(QUICK_SIZES)  # the header, then each size twice
    assert rows[1].startswith("| 10 | yes | 0 |")
    assert rows[2].startswith("| 10 | no | 10 |")


def test_eviction_empties_the_store_and_keeps_its_memory_down() -> None:
    kept = measure(300, evict=False)
    evicted = measure(300, evict=True)
    assert kept["emails_held"] == 300
    assert evicted["emails_held"] == 0
    # 300 Completed emails are well over 50 KiB; an empty store is a few KiB.
    assert kept["current_bytes"] > 50 * 1024
    assert evicted["current_bytes"] < kept["current_bytes"] / 10
