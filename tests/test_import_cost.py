"""`import email_fsm` loads the core only: pydantic comes with the first use of the boundary."""

from __future__ import annotations

import subprocess
import sys

import pytest

import email_fsm


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint(' '.join(sys.modules))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(out.split())


def test_importing_the_package_and_deciding_loads_no_pydantic() -> None:
    loaded = _modules_after(
        "from email_fsm import Arrive, decide\ndecide({}, Arrive(email_id='E1', queue='q'))"
    )
    assert "email_fsm.decider" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("pydantic", "pydantic_core")}
    assert "email_fsm.requests" not in loaded


def test_the_boundary_loads_on_first_use() -> None:
    loaded = _modules_after("import email_fsm\nemail_fsm.handle_request")
    assert {"pydantic", "email_fsm.requests"} <= loaded


def test_every_public_name_resolves_and_is_listed() -> None:
    for name in email_fsm.__all__:
        assert getattr(email_fsm, name) is not None, name
    assert {"handle_request", "parse_request", "GwsMessage"} <= set(dir(email_fsm))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Acept'"):
        email_fsm.Acept  # type: ignore[attr-defined]  # noqa: B018
