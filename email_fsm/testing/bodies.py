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

from email_fsm import DEFAULT_CONFIG, TABLE, Config, Email, Operation, Trigger, permissions
from email_fsm.graph import email_graph
from email_fsm.table import Branch

from .vocab import (
    _ADDRESSES,
    _DISPOSITIONS,
    _MIMES,
    _SUBJECTS,
    _TEXTS,
    AGENTS,
    QUEUES,
    USER_DATA_KEYS,
    Body,
    _Pools,
    _queue_uri,
    _texts,
    _user_uri,
    agents,
    json_values,
    queues,
    user_data,
)

__all__ = ["arbitrary_requests", "create_requests", "request_bodies"]

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


def _new_user_data(draw: st.DrawFn, email: Email, config: Config) -> dict[str, JsonValue]:
    room = _growing_keys(email, config)
    data = draw(user_data(min_size=1))
    if len({**email.user_data, **data}) <= config.limits.max_user_data_keys:
        return data
    if room > 0:  # one pair adds at most one key
        return dict(list(data.items())[:1])
    key = draw(st.sampled_from(sorted(email.user_data)))
    return {key: draw(_texts(("gold",)))}


def _email_object(draw: st.DrawFn, *, need_to: bool) -> Body:
    obj: Body = {}
    if need_to or draw(st.booleans()):
        obj["to"] = list(draw(st.lists(_texts(_ADDRESSES), min_size=1, max_size=2)))
    if draw(st.booleans()):
        obj["subject"] = draw(_texts(_SUBJECTS))
    if draw(st.booleans()):
        obj["bodyAsPlainText"] = draw(_texts(_TEXTS))
    if not obj or draw(st.booleans()):
        obj["body"] = draw(_texts(_TEXTS))
    if draw(st.booleans()):
        obj["cc"] = list(draw(st.lists(_texts(_ADDRESSES), max_size=2)))
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
        body["bodyAsPlainText"] = draw(_texts(_TEXTS))
    extra = draw(user_data(max_size=min(2, _reply_room(email, pools.config))))
    if extra:
        body["userData"] = extra


def _disposition_parameters(draw: st.DrawFn, body: Body, email: Email, pools: _Pools) -> None:
    body["disposition"] = draw(_texts(_DISPOSITIONS))
    has_room = _growing_keys(email, pools.config) > 0
    if not has_room and pools.config.disposition_key not in email.user_data:
        body["dispositionKey"] = draw(st.sampled_from(sorted(email.user_data)))
    elif has_room and draw(st.booleans()):
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
            key = draw(st.sampled_from(("userUri", "userUri", "targetUri")))
            body[key] = _user_uri(target)
        case Operation.TRANSFER:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.COMPLETE if branch is Branch.TO_QUEUE:
            body["queueName"] = draw(queues(pools.queues))
        case Operation.REPLY | Operation.REPLY_ALL:
            _reply_parameters(draw, body, email, pools)
        case Operation.SAVE:
            body["email"] = _email_object(draw, need_to=False)
        case Operation.SEND:
            body["queueName"] = draw(queues(pools.queues))
            if not email.content.to or draw(st.booleans()):
                body["email"] = _email_object(draw, need_to=not email.content.to)
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
            body["userData"] = _new_user_data(draw, email, pools.config)
        case Operation.DELETE_USER_DATA:
            keys: list[JsonValue] = list(
                draw(st.lists(st.sampled_from(sorted(email.user_data) or USER_DATA_KEYS)))
                or USER_DATA_KEYS[:1]
            )
            if draw(st.booleans()):
                body["keys"] = keys
            else:
                body["userData"] = {str(key): "" for key in keys}
        case Operation.SET_DISPOSITION:
            _disposition_parameters(draw, body, email, pools)
        case Operation.ADD_COMMENT:
            body["comment"] = draw(_texts(("Customer called back", "Waiting for billing")))
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
    agent_names: Sequence[str] = AGENTS,
    queue_names: Sequence[str] = QUEUES,
    config: Config = DEFAULT_CONFIG,
) -> st.SearchStrategy[Body]:
    """Valid GWS request bodies ``agent`` may send about ``email`` now.

    Half of them, where the phase allows, change the email's phase (Accept, Reject,
    Transfer, Complete, Send, Cancel); the others keep it (the property operations).

    Only operations of :func:`~email_fsm.permissions` ``(email, agent).allowed``: when
    ``agent`` is not the holder that is nothing, and the strategy is
    ``hypothesis.strategies.nothing()``. Without policies, every body is accepted by
    :func:`~email_fsm.handle_request` under ``config``, given a free ``new_email_id`` for
    Reply and ReplyAll. Transfer targets come from ``agent_names``, queues from
    ``queue_names``.
    """
    if agent != email.holder:
        return st.nothing()
    return _request_bodies(email, agent, _Pools(tuple(agent_names), tuple(queue_names), config))


@st.composite
def _create_requests(draw: st.DrawFn, pools: _Pools) -> Body:
    body: Body = {"operationName": str(Operation.CREATE)}
    queue = draw(st.none() | queues(pools.queues))
    if queue is not None:
        body["queueName"] = queue
    data = draw(user_data(max_size=min(2, pools.config.limits.max_user_data_keys)))
    if data:
        body["userData"] = data
    return body


def create_requests(
    *, queue_names: Sequence[str] = QUEUES, config: Config = DEFAULT_CONFIG
) -> st.SearchStrategy[Body]:
    """Valid Create bodies (sent with a free ``new_email_id``)."""
    return _create_requests(_Pools(AGENTS, tuple(queue_names), config))


_PARAMETERS = (
    "saveLAR",
    "userUri",
    "targetUri",
    "queueName",
    "queueUri",
    "body",
    "bodyAsPlainText",
    "mime",
    "userData",
    "subjectPrefix",
    "replyToStartLine",
    "quoteOriginal",
    "indentCharacter",
    "parentId",
    "email",
    "documentId",
    "name",
    "size",
    "keys",
    "disposition",
    "dispositionKey",
    "comment",
)


@cache
def _json_requests() -> st.SearchStrategy[JsonValue]:
    """Request bodies as JSON values: mostly GWS-shaped objects with wrong, missing or
    unknown parameters, sometimes any JSON value."""
    names: st.SearchStrategy[JsonValue] = st.sampled_from([str(op) for op in Operation]) | (
        json_values(max_leaves=2)
    )
    values = (
        json_values(max_leaves=5)
        | _texts((_user_uri("bob"), _queue_uri("vip"), "http://x", "bob", "vip"))
        | st.lists(_texts(_ADDRESSES), max_size=2)
    )
    parameters = st.dictionaries(
        st.sampled_from(_PARAMETERS) | st.text(max_size=10), values, max_size=4
    )
    shaped: st.SearchStrategy[JsonValue] = st.builds(
        lambda name, rest: {**rest, "operationName": name}, names, parameters
    )
    unnamed = cast(
        "st.SearchStrategy[JsonValue]", parameters.filter(lambda d: "operationName" not in d)
    )
    return shaped | unnamed | json_values()


@cache
def arbitrary_requests() -> st.SearchStrategy[object]:
    """Anything a client could POST: mostly GWS-shaped bodies with wrong, missing or
    unknown parameters; also any JSON value, that as JSON text or UTF-8 bytes, any text
    and any bytes."""
    as_json = _json_requests()
    return (
        as_json
        | as_json.map(json.dumps)
        | as_json.map(lambda v: json.dumps(v).encode())
        | st.text(max_size=40)
        | st.binary(max_size=40)
    )
