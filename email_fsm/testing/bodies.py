"""Request bodies: valid ones an agent may send now, and anything a client could send.

:func:`request_bodies` proposes only the operations that
:func:`~email_fsm.permissions` allows the holder, with realistic parameters (a transfer
never targets its sender, a removed attachment is attached, a sent draft has a
recipient, userData stays within the configured limits); :func:`create_requests` does
the same for Create. :func:`arbitrary_requests` draws malformed bodies too: unknown
operations, wrong types, missing parameters, non-JSON text, bytes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import cast

from hypothesis import strategies as st
from pydantic import JsonValue

from email_fsm import TABLE, Config, Email, Operation, Trigger, permissions
from email_fsm.requests import REQUEST_MODELS
from email_fsm.table import Branch, email_graph

from .vocab import (
    _ADDRESSES,
    _MIMES,
    Body,
    Vocabulary,
    _contact_uri,
    _Pools,
    _queue_uri,
    _texts,
    _user_uri,
    agents,
    json_values,
    queues,
)

__all__ = ["arbitrary_requests", "create_requests", "request_bodies"]

_SOMETIMES = st.sampled_from((False, False, False, True))

_GRAPH = email_graph(TABLE)
"""The table over (direction, phase): what each email can go through next."""


def _growing_keys(email: Email, config: Config) -> int:
    """How many new userData keys ``email`` can still take."""
    return config.limits.max_user_data_keys - len(email.user_data)


def _reply_room(email: Email, config: Config) -> int:
    contact = 1 if email.content.contact_id is not None else 0
    return config.limits.max_user_data_keys - contact


def _feasible(op: Trigger, branch: Branch, email: Email, pools: _Pools) -> bool:
    """Can a valid body for ``op`` on ``branch`` be built for ``email`` now?"""
    limits = pools.config.limits
    match op:
        case Operation.REMOVE_ATTACHMENT:
            return bool(email.attachments)
        case Operation.ADD_ATTACHMENT:
            return len(email.attachments) < limits.max_attachments
        case Operation.REPLY | Operation.REPLY_ALL:
            return _reply_room(email, pools.config) >= 0
        case Operation.ATTACH_USER_DATA | Operation.UPDATE_USER_DATA | Operation.SET_DISPOSITION:
            return _growing_keys(email, pools.config) > 0 or bool(email.user_data)
        case Operation.TRANSFER:
            return branch is not Branch.TO_AGENT or len(pools.agents) > 1
    return True


def _new_user_data(draw: st.DrawFn, email: Email, pools: _Pools) -> dict[str, JsonValue]:
    config = pools.config
    room = _growing_keys(email, config)
    data = draw(pools.user_data(min_size=1))
    if len({**email.user_data, **data}) <= config.limits.max_user_data_keys:
        return data
    if room > 0:  # one pair adds at most one key
        return dict(list(data.items())[:1])
    # No room: new values for keys the email has (a known key's value where it is one).
    key = draw(st.sampled_from(sorted(email.user_data)))
    known = pools.vocabulary.keys()
    value: JsonValue = draw(known[key]) if key in known else draw(_texts(("gold",)))
    return {key: value}


def _addresses(draw: st.DrawFn, pools: _Pools, *, min_size: int) -> list[JsonValue]:
    """An address list as Genesys' clients send one: ``min_size`` or more addresses, some
    padded with a space, sometimes with an empty entry (``"cc": [""]``). The model trims
    them and drops the empty ones."""
    real = draw(st.lists(pools.addresses.filter(str.strip), min_size=min_size, max_size=2))
    listed: list[JsonValue] = [f" {a}" if draw(st.booleans()) else a for a in real]
    if draw(st.booleans()):
        listed.insert(draw(st.integers(0, len(listed))), "")
    return listed


def _email_object(draw: st.DrawFn, pools: _Pools, *, need_to: bool) -> Body:
    obj: Body = {}
    # A "to" given holds an address: an empty one would clear it before a Send.
    if need_to or draw(st.booleans()):
        obj["to"] = _addresses(draw, pools, min_size=1)
    if draw(st.booleans()):
        obj["subject"] = draw(pools.subjects)
    if draw(st.booleans()):
        obj["bodyAsPlainText"] = draw(pools.texts)
    if not obj or draw(st.booleans()):
        obj["body"] = draw(pools.texts)
    if draw(st.booleans()):
        obj["cc"] = _addresses(draw, pools, min_size=0)
    return obj


def _reply_parameters(draw: st.DrawFn, body: Body, email: Email, pools: _Pools) -> None:
    queue = draw(st.none() | queues(pools.queues))
    if queue is not None:
        if draw(st.booleans()):
            body["queueUri"] = _queue_uri(queue)
        else:
            body["queueName"] = queue
    if draw(st.booleans()):
        body["quoteOriginal"] = True
        body["replyToStartLine"] = "On Monday, you wrote:"
    else:
        body["bodyAsPlainText"] = draw(pools.texts)
    extra = draw(pools.user_data(max_size=min(2, _reply_room(email, pools.config))))
    if extra:
        body["userData"] = extra


def _disposition_parameters(draw: st.DrawFn, body: Body, email: Email, pools: _Pools) -> None:
    body["disposition"] = draw(pools.dispositions)
    has_room = _growing_keys(email, pools.config) > 0
    if not has_room and pools.config.disposition_key not in email.user_data:
        body["dispositionKey"] = draw(st.sampled_from(sorted(email.user_data)))
    elif has_room and draw(_SOMETIMES):  # mostly the configured key
        body["dispositionKey"] = draw(_texts(("Outcome",), max_size=12))


def _body(
    draw: st.DrawFn, op: Operation, branch: Branch, email: Email, agent: str, pools: _Pools
) -> Body:
    """A valid body for ``op`` by ``agent`` on ``email``, taking ``branch``."""
    body: Body = {"operationName": str(op)}
    match op:
        case Operation.ACCEPT | Operation.COMPLETE | Operation.SEND:
            if draw(st.booleans()):
                body["saveLAR"] = draw(st.booleans())
    match op:
        case Operation.TRANSFER if branch is Branch.TO_AGENT:
            target = draw(agents([a for a in pools.agents if a != agent]))
            # userUri (the email page's) and targetUri (the Open Media page's, and
            # Genesys' clients'), each naming users/ or contacts/.
            key = draw(st.sampled_from(("userUri", "userUri", "targetUri")))
            uri = draw(st.sampled_from((_user_uri, _user_uri, _contact_uri)))
            body[key] = uri(target)
        case Operation.TRANSFER:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.COMPLETE if branch is Branch.TO_QUEUE:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.REPLY | Operation.REPLY_ALL:
            _reply_parameters(draw, body, email, pools)
        case Operation.SAVE:
            body["email"] = _email_object(draw, pools, need_to=False)
        case Operation.SEND:
            body["queueName"] = draw(queues(pools.queues))
            if not email.content.to or draw(st.booleans()):
                body["email"] = _email_object(draw, pools, need_to=not email.content.to)
        case Operation.ADD_ATTACHMENT:
            taken = {a.id for a in email.attachments}
            number = draw(st.integers(1, 99).filter(lambda n: f"doc-{n}" not in taken))
            body["documentId"] = f"doc-{number}"
            if draw(st.booleans()):
                body["name"] = draw(_texts(("invoice.pdf", "photo.png")))
                body["size"] = draw(st.integers(0, 10**7))
                body["mime"] = draw(st.sampled_from(_MIMES))
        case Operation.REMOVE_ATTACHMENT:
            body["documentId"] = draw(st.sampled_from([a.id for a in email.attachments]))
        case Operation.ATTACH_USER_DATA | Operation.UPDATE_USER_DATA:
            body["userData"] = _new_user_data(draw, email, pools)
        case Operation.DELETE_USER_DATA:
            known = sorted(email.user_data) or list(pools.user_data_keys) or ["VIP"]
            keys: list[JsonValue] = list(draw(st.lists(st.sampled_from(known))) or known[:1])
            if draw(st.booleans()):
                body["keys"] = keys
            else:
                body["userData"] = {str(key): "" for key in keys}
        case Operation.SET_DISPOSITION:
            _disposition_parameters(draw, body, email, pools)
        case Operation.ADD_COMMENT:
            body["comment"] = draw(pools.comments)
    return body


def _operation_edges(email: Email, pools: _Pools) -> list[tuple[Operation, Branch, bool]]:
    """The (operation, branch, moves) the holder of ``email`` can take now; ``moves``:
    the email changes phase."""
    node = (email.direction, email.phase)
    return [
        (trigger, branch, target != node)
        for trigger, branch, target in _GRAPH[node]
        if isinstance(trigger, Operation) and _feasible(trigger, branch, email, pools)
    ]


@st.composite
def _request_bodies(draw: st.DrawFn, email: Email, agent: str, pools: _Pools) -> Body:
    options = _operation_edges(email, pools)
    assert {op for op, _, _ in options} <= set(permissions(email, agent).allowed)
    # Half the time a move: otherwise the many property operations would keep emails
    # in the same phase for most of a run.
    moving = draw(st.booleans())
    chosen = [o for o in options if o[2] is moving] or options
    op, branch, _ = draw(st.sampled_from(chosen))
    return _body(draw, op, branch, email, agent, pools)


def request_bodies(
    email: Email,
    agent: str,
    *,
    vocabulary: Vocabulary | None = None,
    agent_names: Sequence[str] | None = None,
    queue_names: Sequence[str] | None = None,
    config: Config | None = None,
) -> st.SearchStrategy[Body]:
    """Valid GWS request bodies ``agent`` may send about ``email`` now.

    Half of them, where the phase allows, change the email's phase (Accept, Reject,
    Transfer, Complete, Send, Cancel); the others keep it (the property operations).

    Only operations of :func:`~email_fsm.permissions` ``(email, agent).allowed``: when
    ``agent`` is not the holder that is nothing, and the strategy is
    ``hypothesis.strategies.nothing()``. Without policies, every body is accepted by
    :func:`~email_fsm.handle_request` under the vocabulary's configuration, given a free
    ``new_email_id`` for Reply and ReplyAll. Transfer targets come from the
    vocabulary's agents (as ``userUri`` or ``targetUri``, a ``users/`` or a
    ``contacts/`` URI), queues from its queues, userData, dispositions, comments and
    content from its strategies (see :class:`~email_fsm.testing.Vocabulary`;
    ``agent_names``, ``queue_names`` and ``config`` override its fields). Address lists
    come as Genesys' clients send them: padded, with empty entries.
    """
    if agent != email.holder:
        return st.nothing()
    return _request_bodies(email, agent, _Pools.of(vocabulary, agent_names, queue_names, config))


@st.composite
def _create_requests(draw: st.DrawFn, pools: _Pools) -> Body:
    body: Body = {"operationName": str(Operation.CREATE)}
    queue = draw(st.none() | queues(pools.queues))
    if queue is not None:
        body["queueName"] = queue
    data = draw(pools.user_data(max_size=min(2, pools.config.limits.max_user_data_keys)))
    if data:
        body["userData"] = data
    return body


def create_requests(
    *,
    vocabulary: Vocabulary | None = None,
    queue_names: Sequence[str] | None = None,
    config: Config | None = None,
) -> st.SearchStrategy[Body]:
    """Valid Create bodies (sent with a free ``new_email_id``): a queue of the
    vocabulary's, userData drawn from it."""
    return _create_requests(_Pools.of(vocabulary, None, queue_names, config))


_PARAMETERS: tuple[str, ...] = tuple(
    sorted(
        {
            field.alias or name
            for model in REQUEST_MODELS.values()
            for name, field in model.model_fields.items()
        }
        - {"operationName"}
    )
)
"""Every GWS parameter some operation knows, by its GWS name."""


_MINIMAL: dict[Operation, Body] = {
    Operation.ACCEPT: {},
    Operation.REJECT: {},
    Operation.TRANSFER: {"queueName": "vip"},
    Operation.COMPLETE: {},
    Operation.REPLY: {},
    Operation.REPLY_ALL: {},
    Operation.CREATE: {},
    Operation.SAVE: {"email": {"subject": "Invoice"}},
    Operation.SEND: {"queueName": "outbound", "email": {"to": ["customer@example.com"]}},
    Operation.CANCEL: {},
    Operation.ADD_ATTACHMENT: {"documentId": "doc-1"},
    Operation.REMOVE_ATTACHMENT: {"documentId": "doc-1"},
    Operation.ATTACH_USER_DATA: {"userData": {"VIP": True}},
    Operation.UPDATE_USER_DATA: {"userData": {"VIP": True}},
    Operation.DELETE_USER_DATA: {"keys": ["VIP"]},
    Operation.SET_DISPOSITION: {"disposition": "Resolved"},
    Operation.ADD_COMMENT: {"comment": "Customer called back"},
    Operation.SET_IN_FOCUS: {},
}
"""A body each operation parses, with its required parameters only."""


def _noisy(minimal: tuple[Operation, Body], before: Body, after: Body, inner: Body) -> JsonValue:
    """A parsable body with more parameters, known or not, around it and in its email."""
    operation, body = minimal
    noisy: Body = {**before, "operationName": str(operation), **body, **after}
    email = body.get("email")
    if isinstance(email, dict):
        noisy["email"] = {**inner, **email}
    return cast("JsonValue", noisy)


def _json_requests(pools: _Pools | None = None) -> st.SearchStrategy[JsonValue]:
    """Request bodies as JSON values: mostly GWS-shaped objects with wrong, missing or
    unknown parameters, sometimes any JSON value."""
    return _json_requests_of(pools or _Pools.of(None))


@cache
def _json_requests_of(pools: _Pools) -> st.SearchStrategy[JsonValue]:
    names: st.SearchStrategy[JsonValue] = st.sampled_from([str(op) for op in Operation]) | (
        json_values(max_leaves=2)
    )
    agent, queue = pools.agents[-1], pools.queues[-1]
    uris = (_user_uri(agent), _contact_uri(agent), _queue_uri(queue), "http://x")
    values = (
        json_values(max_leaves=5)
        | _texts((*uris, *pools.agents, *pools.queues))
        | st.lists(_texts(_ADDRESSES), max_size=2)
        | pools.user_data(max_size=2)
    )
    known = st.sampled_from(_PARAMETERS)
    # Misspelt in case only, as real clients do (queuename for queueName).
    parameter_names = known | known.map(str.lower) | st.text(max_size=10)
    parameters = st.dictionaries(parameter_names, values, max_size=4)
    shaped: st.SearchStrategy[JsonValue] = st.builds(
        lambda name, rest: {**rest, "operationName": name}, names, parameters
    )
    unnamed = cast(
        "st.SearchStrategy[JsonValue]", parameters.filter(lambda d: "operationName" not in d)
    )
    content_names = st.sampled_from(("subject", "Subject", "to", "cc", "attachments"))
    noisy = st.builds(
        _noisy,
        st.sampled_from(sorted(_MINIMAL.items())),
        parameters,
        parameters,
        st.dictionaries(content_names | st.text(max_size=8), values, max_size=2),
    )
    return shaped | noisy | unnamed | json_values()


def arbitrary_requests(*, vocabulary: Vocabulary | None = None) -> st.SearchStrategy[object]:
    """Anything a client could POST: mostly GWS-shaped bodies with wrong, missing or
    unknown parameters (some of them bodies that parse, with unknown or misspelt
    parameters added around them, values from ``vocabulary``: its agents, queues and
    userData); also any JSON value, that as JSON text or UTF-8 bytes, any text and any
    bytes."""
    return _arbitrary_requests(_Pools.of(vocabulary))


@cache
def _arbitrary_requests(pools: _Pools) -> st.SearchStrategy[object]:
    as_json = _json_requests_of(pools)
    return (
        as_json
        | as_json.map(json.dumps)
        | as_json.map(lambda v: json.dumps(v).encode())
        | st.text(max_size=40)
        | st.binary(max_size=40)
    )
