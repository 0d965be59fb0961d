"""The examples in the documentation pages run, like the docstrings' doctests."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("page", ["quickstart.md", "policies.md"])
def test_page_examples(page: str) -> None:
    result = doctest.testfile(str(DOCS / page), module_relative=False, verbose=False)
    assert result.attempted > 0
    assert result.failed == 0
