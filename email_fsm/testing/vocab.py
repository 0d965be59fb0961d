"""The vocabularies the other strategies draw from: agents, queues, content, userData.

Small pools on purpose: the interesting bugs need the same agent to meet the same email
twice. The text pools (addresses, subjects, bodies) make most drawn values look real and
leave room for any non-empty text.

Your business rules read *your* values: a :class:`Vocabulary` carries your agents, your
queues, strategies for the content and, above all, for the userData keys your policies
read (``{"Priority": st.sampled_from(["high", "normal", "low"])}``). Every strategy of
:mod:`email_fsm.testing` and :class:`~email_fsm.testing.EmailLifecycleMachine` take one,
and every email and request they generate draws from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TypeAlias

from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import DEFAULT_CONFIG, Config

__all__ = [
    "AGENTS",
    "DEFAULT_USER_DATA",
    "QUEUES",
    "USER_DATA_KEYS",
    "Body",
    "Vocabulary",
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
"""The userData keys :func:`user_data` favours by default (any other non-empty key may
appear)."""

_BASE = "http://localhost:8080/api/v2"
_ADDRESSES = ("customer@example.com", "support@example.com", "billing@example.com")
_SUBJECTS = ("Order 1234", "Where is my refund?", "Invoice", "Password reset")
_TEXTS = ("Hello,", "Thank you for your message.", "Please find the invoice attached.")
_DISPOSITIONS = ("Resolved", "Escalated", "NoAnswerNeeded")
_COMMENTS = ("Customer called back", "Waiting for billing")
_MIMES = ("text/plain", "text/html", "application/pdf")


def _realistic(realistic: Sequence[str], max_size: int = 30) -> st.SearchStrategy[str]:
    """Mostly realistic values, sometimes any non-empty text."""
    return _realistic_texts(tuple(realistic), max_size)


@cache
def _realistic_texts(realistic: tuple[str, ...], max_size: int) -> st.SearchStrategy[str]:
    return st.sampled_from(realistic) | st.text(min_size=1, max_size=max_size)


_texts = _realistic  # the name the other modules use

DEFAULT_USER_DATA: Mapping[str, st.SearchStrategy[JsonValue]] = {
    "VIP": st.booleans(),
    "Language": st.sampled_from(("en", "fr", "de")),
    "Priority": st.integers(0, 10),
    "Segment": st.sampled_from(("gold", "silver", "bronze")),
    "ContactId": st.sampled_from(("C1", "C2")),
}
"""The default userData keys and the strategies of their values. Yours replace these
key by key (:attr:`Vocabulary.user_data`), or all of them
(:attr:`Vocabulary.replace_user_data`)."""


@dataclass(frozen=True, slots=True, eq=False)
class Vocabulary:
    """What the generated emails and requests are made of.

    Give yours to every strategy (``vocabulary=``) and to the state machine (the
    :attr:`~email_fsm.testing.EmailLifecycleMachine.vocabulary` class attribute)::

        from hypothesis import strategies as st

        PRIORITY = Vocabulary(
            user_data={"Priority": st.sampled_from(["high", "normal", "low"])}
        )

    - ``agents`` (at least two) act, and are offered emails and transferred to;
      ``queues`` (at least one) are where emails arrive, move and are sent from.
    - ``user_data``: a mapping from userData key to the strategy of its values. Your
      keys join the default ones (:data:`DEFAULT_USER_DATA`; a key of both takes your
      strategy), come first, and are drawn more often than the others: three times in
      four where a userData object is drawn, against one in two. Every userData that
      arrives with an email, that Create, Reply, AttachUserData and UpdateUserData
      bring, draws from it; DeleteUserData deletes its keys.
    - ``replace_user_data=True``: your keys only, without the defaults.
    - ``other_user_data``: sometimes, beside the known keys, one of any non-empty name
      with any JSON value (on by default).
    - ``subjects``, ``texts`` (bodies), ``addresses``, ``dispositions``, ``comments``:
      strategies of the content's text; ``None`` is the default pool of realistic
      values mixed with any non-empty text.
    - ``config``: the limits every drawn request stays within.
    """

    agents: tuple[str, ...] = AGENTS
    queues: tuple[str, ...] = QUEUES
    user_data: Mapping[str, st.SearchStrategy[JsonValue]] = field(default_factory=dict)
    replace_user_data: bool = False
    other_user_data: bool = True
    subjects: st.SearchStrategy[str] | None = None
    texts: st.SearchStrategy[str] | None = None
    addresses: st.SearchStrategy[str] | None = None
    dispositions: st.SearchStrategy[str] | None = None
    comments: st.SearchStrategy[str] | None = None
    config: Config = DEFAULT_CONFIG

    def __post_init__(self) -> None:
        object.__setattr__(self, "agents", tuple(self.agents))
        object.__setattr__(self, "queues", tuple(self.queues))
        if len(self.agents) < 2 or not self.queues:
            raise ValueError("need at least two agents and one queue")
        if not all(isinstance(key, str) and key for key in self.user_data):
            raise ValueError("userData keys must be non-empty strings")

    def keys(self) -> dict[str, st.SearchStrategy[JsonValue]]:
        """The userData keys drawn, yours first, each with the strategy of its values."""
        if self.replace_user_data:
            return dict(self.user_data)
        return {
            **self.user_data,
            **{k: v for k, v in DEFAULT_USER_DATA.items() if k not in self.user_data},
        }

    def with_overrides(
        self,
        *,
        agent_names: Sequence[str] | None = None,
        queue_names: Sequence[str] | None = None,
        config: Config | None = None,
    ) -> Vocabulary:
        """This vocabulary with the pools and the configuration given (``None``: kept)."""
        changes: dict[str, object] = {}
        if agent_names is not None:
            changes["agents"] = tuple(agent_names)
        if queue_names is not None:
            changes["queues"] = tuple(queue_names)
        if config is not None:
            changes["config"] = config
        return replace(self, **changes) if changes else self  # type: ignore[arg-type]


DEFAULT_VOCABULARY = Vocabulary()


@dataclass(frozen=True, slots=True)
class _Pools:
    """What a strategy draws from, and the configuration its bodies must obey."""

    agents: tuple[str, ...]
    queues: tuple[str, ...]
    config: Config
    vocabulary: Vocabulary = DEFAULT_VOCABULARY

    def __post_init__(self) -> None:
        if len(self.agents) < 2 or not self.queues:
            raise ValueError("need at least two agents and one queue")

    @classmethod
    def of(
        cls,
        vocabulary: Vocabulary | None,
        agent_names: Sequence[str] | None = None,
        queue_names: Sequence[str] | None = None,
        config: Config | None = None,
    ) -> _Pools:
        vocab = (vocabulary or DEFAULT_VOCABULARY).with_overrides(
            agent_names=agent_names, queue_names=queue_names, config=config
        )
        return cls(vocab.agents, vocab.queues, vocab.config, vocab)

    @property
    def subjects(self) -> st.SearchStrategy[str]:
        mine = self.vocabulary.subjects
        return _realistic(_SUBJECTS) if mine is None else mine

    @property
    def texts(self) -> st.SearchStrategy[str]:
        mine = self.vocabulary.texts
        return _realistic(_TEXTS) if mine is None else mine

    @property
    def addresses(self) -> st.SearchStrategy[str]:
        mine = self.vocabulary.addresses
        return _realistic(_ADDRESSES) if mine is None else mine

    @property
    def dispositions(self) -> st.SearchStrategy[str]:
        mine = self.vocabulary.dispositions
        return _realistic(_DISPOSITIONS) if mine is None else mine

    @property
    def comments(self) -> st.SearchStrategy[str]:
        mine = self.vocabulary.comments
        return _realistic(_COMMENTS) if mine is None else mine

    @property
    def user_data_keys(self) -> tuple[str, ...]:
        return tuple(self.vocabulary.keys())

    def user_data(
        self, *, min_size: int = 0, max_size: int = 3
    ) -> st.SearchStrategy[dict[str, JsonValue]]:
        return _vocabulary_user_data(self.vocabulary, min_size, max_size)


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


def user_data(
    *,
    min_size: int = 0,
    max_size: int = 3,
    vocabulary: Vocabulary | None = None,
    keys: Mapping[str, st.SearchStrategy[JsonValue]] | None = None,
    replace_defaults: bool = False,
) -> st.SearchStrategy[dict[str, JsonValue]]:
    """userData pairs, ``min_size`` to ``max_size`` of them: mostly the known keys with
    values of their usual type (by default those of :data:`DEFAULT_USER_DATA`: ``VIP`` a
    boolean), sometimes any non-empty key with any JSON value.

    ``keys`` (key → strategy of its values) join the known keys, or replace them with
    ``replace_defaults=True``; ``vocabulary`` gives them all at once (see
    :class:`Vocabulary`, whose rules the drawn pairs follow).
    """
    vocab = vocabulary or DEFAULT_VOCABULARY
    if keys is not None:
        vocab = replace(
            vocab, user_data={**vocab.user_data, **keys}, replace_user_data=replace_defaults
        )
    return _vocabulary_user_data(vocab, min_size, max_size)


@cache
def _vocabulary_user_data(
    vocab: Vocabulary, min_size: int, max_size: int
) -> st.SearchStrategy[dict[str, JsonValue]]:
    return _user_data(vocab, min_size, max_size)


@st.composite
def _user_data(
    draw: st.DrawFn, vocab: Vocabulary, min_size: int, max_size: int
) -> dict[str, JsonValue]:
    known = vocab.keys()
    yours = set(vocab.user_data)
    drawn: dict[str, JsonValue] = {}
    for key, values in known.items():
        if len(drawn) >= max_size:
            break
        # Your keys three times in four, the others one in two.
        present = draw(_OFTEN) if key in yours else draw(st.booleans())
        if present:
            drawn[key] = draw(values)
    if vocab.other_user_data and len(drawn) < max_size and draw(_RARELY):
        key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in known))
        drawn[key] = draw(json_values(max_leaves=3))
    keys = list(known)
    while len(drawn) < min_size:  # fill up with the known keys not drawn yet
        missing = [k for k in keys if k not in drawn]
        if not missing:
            drawn[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in drawn))] = draw(
                json_values(max_leaves=3)
            )
            continue
        key = draw(st.sampled_from(missing))
        drawn[key] = draw(known[key])
    return drawn


_OFTEN = st.sampled_from((True, True, True, False))
_RARELY = st.sampled_from((True, False, False, False))
