"""Who may log in, and the HTTP sessions: the agents file, Basic credentials, sessions."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from email_fsm.server.auth import Agent, Directory, Sessions, basic_credentials


def _basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_an_agents_file_gives_its_agents(tmp_path: Path) -> None:
    """Each entry's names and password; optional names default to empty."""
    path = tmp_path / "agents.json"
    path.write_text(
        '{"agents": [{"userName": "alice", "password": "s3cret", "firstName": "Alice",'
        ' "lastName": "Smith"}, {"userName": "bob"}]}'
    )
    directory = Directory.from_file(path)
    assert directory.agents == {
        "alice": Agent("alice", "s3cret", "Alice", "Smith"),
        "bob": Agent("bob"),
    }
    assert directory.check("alice", "s3cret") == Agent("alice", "s3cret", "Alice", "Smith")
    assert directory.check("alice", "S3cret") is None
    assert directory.check("bob", "") == Agent("bob")
    assert directory.check("carol", "") is None
    assert not directory.is_open


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "cannot read the agents file"),
        ("[]", 'expected {"agents": [...]}'),
        ('{"agents": {}}', 'expected {"agents": [...]}'),
        ('{"agents": [1]}', "agent 1 needs a string userName"),
        ('{"agents": [{"userName": ""}]}', "userName must be non-empty"),
        ('{"agents": [{"userName": "a/b"}]}', "no '/'"),
        ('{"agents": [{"userName": "a", "password": 1}]}', "password must be a string"),
        ('{"agents": [{"userName": "a", "pasword": "x"}]}', "unknown key 'pasword'"),
        ('{"agents": [{"userName": "a"}, {"userName": "a"}]}', "agent 'a' given twice"),
    ],
)
def test_a_bad_agents_file_is_refused_with_what_is_wrong(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "agents.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=re.escape(problem)):
        Directory.from_file(path)


def test_a_missing_agents_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the agents file") as raised:
        Directory.from_file(tmp_path / "none.json")
    assert "none.json" in str(raised.value)


def test_an_open_directory_takes_any_name_but_an_empty_one_or_a_path() -> None:
    """--open: any password; the user name must be usable as an agent URI's last segment."""
    directory = Directory.open()
    assert directory.check("zoe", "whatever") == Agent("zoe")
    assert directory.check("", "x") is None
    assert directory.check("a/b", "x") is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (_basic("alice:secret"), ("alice", "secret")),
        (_basic("alice:"), ("alice", "")),
        (_basic("alice:a:b"), ("alice", "a:b")),
        ("basic " + base64.b64encode(b"x:y").decode(), ("x", "y")),
        (_basic("no colon"), None),
        ("Basic %%%", None),
        ("Basic " + base64.b64encode(b"\xff:x").decode(), None),
        ("Bearer abc", None),
        (None, None),
    ],
)
def test_basic_credentials(header: str | None, expected: tuple[str, str] | None) -> None:
    assert basic_credentials(header) == expected


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_sessions_expire_when_idle_and_stay_within_their_limit() -> None:
    """An idle session is gone; past the limit the least recently used goes first."""
    clock = _Clock()
    sessions = Sessions(limit=2, idle_timeout=10, clock=clock)
    a = sessions.create(Agent("a"))
    b = sessions.create(Agent("b"))
    assert a.id != b.id
    assert a.csrf_token != b.csrf_token
    clock.now = 5
    assert sessions.get(a.id) is a  # a is now the most recently used
    c = sessions.create(Agent("c"))
    assert len(sessions) == 2
    assert sessions.get(b.id) is None
    assert sessions.get(a.id) is a
    clock.now = 16  # c idle for 16 s, a for 11 s
    assert sessions.get(c.id) is None
    assert sessions.get(a.id) is None
    assert len(sessions) == 0
    assert sessions.get(None) is None
    assert sessions.get("unknown") is None
