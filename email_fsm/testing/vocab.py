"""The small vocabularies the other strategies draw from: agents, queues, userData, JSON.

Small pools on purpose: the interesting bugs need the same agent to meet the same email
twice. The text pools (addresses, subjects, bodies) make most drawn values look real and
leave room for any non-empty text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeAlias

from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import Config

__all__ = [
    "AGENTS",
    "QUEUES",
    "USER_DATA_KEYS",
    "Body",
    "agents",
    "json_values",
    "queues",
    "user_data",
]

Body: TypeAlias = dict[str, JsonValue]
"""A GWS request body, as a client POSTs it."""

AGENTS: tuple[str, ...] = ("alice", "bob", "carol")
"""The default agent pool."""

QUEUES: tuple[str, ...] = ("inbound", "billing", "vip", "outbound")
"""The default queue pool."""

USER_DATA_KEYS: tuple[str, ...] = ("VIP", "Language", "Priority", "Segment", "ContactId")
"""The userData keys :func:`user_data` favours (any other non-empty key may appear)."""

_BASE = "http://localhost:8080/api/v2"
_ADDRESSES = ("customer@example.com", "support@example.com", "billing@example.com")
_SUBJECTS = ("Order 1234", "Where is my refund?", "Invoice", "Password reset")
_TEXTS = ("Hello,", "Thank you for your message.", "Please find the invoice attached.")
_DISPOSITIONS = ("Resolved", "Escalated", "NoAnswerNeeded")
_MIMES = ("text/plain", "text/html", "application/pdf")


@dataclass(frozen=True, slots=True)
class _Pools:
    """What a strategy draws names from, and the configuration its bodies must obey."""

    agents: tuple[str, ...]
    queues: tuple[str, ...]
    config: Config

    def __post_init__(self) -> None:
        if len(self.agents) < 2 or not self.queues:
            raise ValueError("need at least two agents and one queue")


def _user_uri(agent: str) -> str:
    return f"{_BASE}/users/{agent}"


def _contact_uri(agent: str) -> str:
    """An agent's URI as GWS's Open Media pages write it (the last segment is the id)."""
    return f"{_BASE}/contacts/{agent}"


def _queue_uri(queue: str) -> str:
    return f"{_BASE}/queues/{queue}"


# Strategies are built once and reused: building them is what costs time.
@cache
def _sampled(names: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.sampled_from(names)


def agents(names: Sequence[str] = AGENTS) -> st.SearchStrategy[str]:
    """An agent id from ``names``."""
    return _sampled(tuple(names))


def queues(names: Sequence[str] = QUEUES) -> st.SearchStrategy[str]:
    """A queue name from ``names``."""
    return _sampled(tuple(names))


def _texts(realistic: Sequence[str], max_size: int = 30) -> st.SearchStrategy[str]:
    """Mostly realistic values, sometimes any non-empty text."""
    return _realistic_texts(tuple(realistic), max_size)


@cache
def _realistic_texts(realistic: tuple[str, ...], max_size: int) -> st.SearchStrategy[str]:
    return st.sampled_from(realistic) | st.text(min_size=1, max_size=max_size)


def _scalars() -> st.SearchStrategy[JsonValue]:
    return (
        st.none()
        | st.booleans()
        | st.integers(-(2**53), 2**53)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=20)
    )


@cache
def json_values(max_leaves: int = 10) -> st.SearchStrategy[JsonValue]:
    """Any JSON value: null, booleans, numbers, strings, lists and objects, nested."""
    return st.recursive(
        _scalars(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=max_leaves,
    )


def user_data(*, min_size: int = 0, max_size: int = 3) -> st.SearchStrategy[dict[str, JsonValue]]:
    """userData pairs, ``min_size`` to ``max_size`` of them: mostly the well-known keys of
    :data:`USER_DATA_KEYS` with values of their usual type (``VIP`` a boolean), sometimes
    any non-empty key with any JSON value."""
    return _user_data(min_size, max_size)


@cache
def _user_data(min_size: int, max_size: int) -> st.SearchStrategy[dict[str, JsonValue]]:
    known: dict[str, st.SearchStrategy[JsonValue]] = {
        "VIP": st.booleans(),
        "Language": st.sampled_from(("en", "fr", "de")),
        "Priority": st.integers(0, 10),
        "Segment": st.sampled_from(("gold", "silver", "bronze")),
        "ContactId": st.sampled_from(("C1", "C2")),
    }
    pairs = st.tuples(
        st.fixed_dictionaries({}, optional=known),
        st.dictionaries(st.text(min_size=1, max_size=12), json_values(max_leaves=3), max_size=1),
    )

    def merge(drawn: tuple[dict[str, JsonValue], dict[str, JsonValue]]) -> dict[str, JsonValue]:
        merged = {**drawn[1], **drawn[0]}
        return dict(list(merged.items())[:max_size])

    return pairs.map(merge).filter(lambda d: len(d) >= min_size)
