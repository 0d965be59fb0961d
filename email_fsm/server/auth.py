"""Who may log in, HTTP sessions (``JSESSIONID``) and GWS's CSRF tokens.

Every request to ``/api/v2`` authenticates with HTTP Basic or with the ``JSESSIONID``
cookie of a session that did (the cookie is what a desktop's CometD client sends). A
session carries the CSRF token that ``GET /api/v2/me`` hands out; with CSRF protection
on, a POST without it is refused with HTTP 403 "Missing or invalid Csrf token".
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Agent", "Directory", "Session", "Sessions", "basic_credentials"]


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent who may log in. ``user_name`` is the agent's name in the model."""

    user_name: str
    password: str = ""
    first_name: str = ""
    last_name: str = ""

    def me(self, base_url: str) -> dict[str, Any]:
        """The ``user`` object of ``GET /api/v2/me``."""
        return {
            "id": self.user_name,
            "userName": self.user_name,
            "firstName": self.first_name,
            "lastName": self.last_name,
            "roles": ["ROLE_AGENT"],
            "enabled": True,
            "changePasswordOnFirstLogin": False,
            "uri": f"{base_url}/api/v2/users/{self.user_name}",
            "path": f"/users/{self.user_name}",
        }


class Directory:
    """The agents who may log in: from a file, or anyone (``open``).

    The file is JSON: ``{"agents": [{"userName": "alice", "password": "secret",
    "firstName": "Alice", "lastName": "Smith"}, ...]}`` (names optional).

    >>> directory = Directory([Agent("alice", "secret")])
    >>> directory.check("alice", "secret").user_name, directory.check("alice", "guess")
    ('alice', None)
    >>> Directory.open().check("anyone", "anything").user_name
    'anyone'
    """

    def __init__(self, agents: Iterable[Agent], *, open_: bool = False) -> None:
        self.agents: dict[str, Agent] = {}
        for agent in agents:
            if agent.user_name in self.agents:
                raise ValueError(f"agent {agent.user_name!r} given twice")
            self.agents[agent.user_name] = agent
        self.is_open = open_

    @classmethod
    def open(cls) -> Directory:
        """Any user name and password is accepted (local desktop development)."""
        return cls((), open_=True)

    @classmethod
    def from_file(cls, path: str | Path) -> Directory:
        """The agents of a JSON file (see the class); ``ValueError`` naming what is wrong."""
        try:
            document = json.loads(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"cannot read the agents file {path}: {error}") from None
        entries = document.get("agents") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError(f'{path}: expected {{"agents": [...]}}')
        agents = []
        for number, entry in enumerate(entries, start=1):
            if not isinstance(entry, dict) or not isinstance(entry.get("userName"), str):
                raise ValueError(f"{path}: agent {number} needs a string userName")
            if not entry["userName"] or "/" in entry["userName"]:
                raise ValueError(f"{path}: agent {number}: userName must be non-empty, no '/'")
            fields = {"password": "", "firstName": "", "lastName": ""}
            for key in fields:
                value = entry.get(key, "")
                if not isinstance(value, str):
                    raise ValueError(f"{path}: agent {number}: {key} must be a string")
                fields[key] = value
            unknown = set(entry) - {"userName", *fields}
            if unknown:
                raise ValueError(f"{path}: agent {number}: unknown key {sorted(unknown)[0]!r}")
            agents.append(
                Agent(
                    entry["userName"], fields["password"], fields["firstName"], fields["lastName"]
                )
            )
        return cls(agents)

    def check(self, user_name: str, password: str) -> Agent | None:
        """The agent these credentials log in, or None."""
        if self.is_open:
            if not user_name or "/" in user_name:
                return None
            return self.agents.get(user_name) or Agent(user_name)
        agent = self.agents.get(user_name)
        if agent is None:
            hmac.compare_digest(password, password)  # the same work as a wrong password
            return None
        if not hmac.compare_digest(agent.password.encode(), password.encode()):
            return None
        return agent


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The user name and password of an ``Authorization: Basic`` header, or None.

    >>> basic_credentials("Basic " + base64.b64encode(b"alice:s3:cret").decode())
    ('alice', 's3:cret')
    >>> basic_credentials("Bearer x"), basic_credentials("Basic !!")
    (None, None)
    """
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon:
        return None
    return user, password


@dataclass(slots=True)
class Session:
    """One HTTP session: its agent and CSRF token."""

    id: str
    agent: Agent
    csrf_token: str
    last_used: float


class Sessions:
    """The live HTTP sessions, the least recently used dropped past ``limit`` or when
    idle for ``idle_timeout`` seconds: memory stays bounded whatever clients do."""

    def __init__(
        self,
        *,
        limit: int = 10_000,
        idle_timeout: float = 30 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.idle_timeout = idle_timeout
        self.clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._sessions)

    def create(self, agent: Agent) -> Session:
        session = Session(secrets.token_urlsafe(24), agent, str(uuid.uuid4()), self.clock())
        self._sessions[session.id] = session
        while len(self._sessions) > self.limit:
            self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = self.clock()
        if now - session.last_used > self.idle_timeout:
            del self._sessions[session_id]
            return None
        session.last_used = now
        self._sessions.move_to_end(session_id)
        return session

    def all(self) -> Mapping[str, Session]:
        return self._sessions
