"""Scenario files: a story of system events and agent requests, run through the model.

A scenario is a JSON object::

    {"config": {"baseUrl": "http://localhost:8080", "extendedFields": false},
     "steps": [
       {"event": "Arrive", "emailId": "E1", "queueName": "inbound",
        "receivedDate": "2026-01-05T10:00:00Z",
        "email": {"from": "c@example.com", "to": ["support@example.com"],
                  "subject": "Hi", "contactId": "C1", "userData": {"k": "v"}}},
       {"event": "Offer", "emailId": "E1", "agent": "a"},
       {"agent": "a", "emailId": "E1", "referenceId": 2,
        "request": {"operationName": "Accept"}}]}

``request`` is the GWS request body exactly as a client would POST it: a malformed
request is a refused step, not a malformed file. The optional ``config`` object sets the
:class:`~email_fsm.Config` fields the story runs with, by their camelCase names
(``baseUrl``, ``uriTemplate``, ``extendedFields``, ``strictParameters``, ``defaultQueue``,
``dispositionKey``, and ``limits``: an object of the :class:`~email_fsm.Limits` fields,
``maxUserDataKeys``, ``maxBodyBytes``, ...); a field left out keeps its default. A
top-level ``baseUrl`` is the same as ``config.baseUrl`` (both given, they must agree).

:func:`load_scenario` raises :class:`ScenarioError` naming the step (or the ``config``
key) when the *file* is malformed; :func:`run_scenario` yields the output records of
``email-fsm replay``; :func:`scenario_document` writes steps back out as the JSON object
:func:`load_scenario` reads.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, TypeAlias, get_type_hints

from pydantic import JsonValue, TypeAdapter, ValidationError

from .center import ContactCenter
from .commands import Offer, Revoke, SystemCommand
from .config import Config
from .decisions import Accepted
from .email import gws_name
from .policies import Policy
from .requests import (
    _ARRIVE_CONTENT,
    _ArriveEmail,
    _ArriveStep,
    _OfferStep,
    _RevokeStep,
    _Strict,
    _system_command,
)
from .requests import _EVENT_ADAPTER as _EVENT_STEP

__all__ = [
    "AgentStep",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "run_scenario",
    "scenario_document",
]


class ScenarioError(ValueError):
    """The scenario file itself is malformed; the message names the step."""


_SYSTEM_STEPS = (_ArriveStep, _ArriveEmail, _OfferStep, _RevokeStep)
"""The models of the file's system steps: those of the bodies of
:func:`~email_fsm.requests.parse_system_event`, shared."""


class _AgentStep(_Strict):
    agent: str
    emailId: str | None = None
    newEmailId: str | None = None
    referenceId: int | None = None
    request: JsonValue


_AGENT_STEP: TypeAdapter[_AgentStep] = TypeAdapter(_AgentStep)


@dataclass(frozen=True, slots=True)
class AgentStep:
    """An agent's raw GWS request, with what the caller supplies."""

    agent: str
    request: object
    email_id: str | None = None
    new_email_id: str | None = None
    reference_id: int | None = None


Step: TypeAlias = SystemCommand | AgentStep


@dataclass(frozen=True, slots=True)
class Scenario:
    """A parsed scenario: its base URL (``None``: not given), its steps, and its
    configuration (``None``: no ``config`` object; the model's defaults, with
    :attr:`base_url` when given)."""

    base_url: str | None
    steps: tuple[Step, ...]
    config: Config | None = None

    def effective_config(self) -> Config:
        """The configuration the scenario runs with.

        >>> Scenario("http://gws:8080", ()).effective_config().base_url
        'http://gws:8080'
        """
        if self.config is not None:
            return self.config
        return Config() if self.base_url is None else Config(base_url=self.base_url)


def _command_document(step: SystemCommand) -> dict[str, JsonValue]:
    if isinstance(step, Offer):
        return {"event": "Offer", "emailId": step.email_id, "agent": step.agent}
    if isinstance(step, Revoke):
        return {"event": "Revoke", "emailId": step.email_id}
    content: dict[str, JsonValue] = {}
    for name in _ARRIVE_CONTENT:
        value = getattr(step, name)
        if isinstance(value, tuple):  # the address lists, written even when empty
            content[gws_name(name)] = list(value)
        elif value is not None:
            content[gws_name(name)] = value
    content["userData"] = dict(step.user_data)
    document: dict[str, JsonValue] = {
        "event": "Arrive",
        "emailId": step.email_id,
        "queueName": step.queue,
        "email": content,
    }
    if step.received_date is not None:
        document["receivedDate"] = step.received_date
    return document


def scenario_document(
    steps: Sequence[Step], *, base_url: str | None = None, config: Config | None = None
) -> dict[str, JsonValue]:
    """The scenario JSON object (as ``email-fsm replay`` reads it) for ``steps``.

    Agent requests must be JSON values or JSON text (which the file holds as the value
    it encodes, as :func:`~email_fsm.scenario.load_scenario` reads it back); other text
    raises ``ValueError``. A ``config`` is written as the ``config`` object with every
    field (so the file replays the same whatever the defaults); a ``base_url`` as the
    top-level ``baseUrl``, which must then agree with ``config.base_url``.

    >>> from email_fsm import Offer
    >>> scenario_document([Offer(email_id="E1", agent="a")])
    {'steps': [{'event': 'Offer', 'emailId': 'E1', 'agent': 'a'}]}
    >>> document = scenario_document([], config=Config(extended_fields=True))
    >>> document["config"]["extendedFields"], document["config"]["limits"]["maxBodyBytes"]
    (True, 1048576)
    """
    if config is not None and base_url is not None and config.base_url != base_url:
        raise ValueError(
            f"base_url {base_url!r} differs from the config's base_url {config.base_url!r}"
        )
    documents: list[JsonValue] = []
    for step in steps:
        if isinstance(step, AgentStep):
            document: dict[str, JsonValue] = {"agent": step.agent}
            if step.email_id is not None:
                document["emailId"] = step.email_id
            if step.new_email_id is not None:
                document["newEmailId"] = step.new_email_id
            if step.reference_id is not None:
                document["referenceId"] = step.reference_id
            request = step.request
            if isinstance(request, (str, bytes)):
                request = json.loads(request)
            document["request"] = request  # type: ignore[assignment]
            documents.append(document)
        else:
            documents.append(_command_document(step))
    result: dict[str, JsonValue] = {} if base_url is None else {"baseUrl": base_url}
    if config is not None:
        result["config"] = _settings_document(config)
    result["steps"] = documents
    return result


# ------------------------------------------------------------ the "config" object


def _settings(cls: type[Any]) -> dict[str, tuple[str, Any]]:
    """A settings dataclass's fields by their camelCase names: each field's name and
    type (``Config``: ``baseUrl`` → ``("base_url", str)``)."""
    hints = get_type_hints(cls)
    return {gws_name(f.name): (f.name, hints[f.name]) for f in fields(cls)}


def _json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _setting_value(where: str, kind: Any, value: object) -> object:
    """``value`` checked against a settings field's type (``str``, ``bool``, a
    non-negative ``int``, or a settings dataclass)."""
    if isinstance(kind, type) and is_dataclass(kind):
        return _settings_object(where, kind, value)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScenarioError(f"{where}: must be a non-negative integer, not {_json_type(value)}")
        if value < 0:
            raise ScenarioError(f"{where}: must be a non-negative integer, not {value}")
        return value
    if kind is bool or kind is str:
        if not isinstance(value, kind):
            expected = "a string" if kind is str else "true or false"
            raise ScenarioError(f"{where}: must be {expected}, not {_json_type(value)}")
        return value
    raise TypeError(f"{where}: scenario files cannot set a {kind!r}")


def _settings_object(where: str, cls: type[Any], raw: object) -> Any:
    """Build ``cls`` (:class:`Config`, :class:`Limits`) from its camelCase JSON object."""
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: must be an object, not {_json_type(raw)}")
    known = _settings(cls)
    values: dict[str, object] = {}
    for key, value in raw.items():
        if key not in known:
            close = difflib.get_close_matches(key, list(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ScenarioError(f"{where}: unknown key {key!r}{hint}")
        name, kind = known[key]
        values[name] = _setting_value(f"{where}.{key}", kind, value)
    try:
        return cls(**values)
    except ValueError as error:  # the class's own checks (Config: the uri template)
        key = next((k for k in raw if _refuses(cls, known[k][0], values[known[k][0]])), None)
        at = where if key is None else f"{where}.{key}"
        raise ScenarioError(f"{at}: {error}") from None


def _refuses(cls: type[Any], name: str, value: object) -> bool:
    """Whether ``cls`` refuses ``value`` for field ``name`` on its own."""
    try:
        cls(**{name: value})
    except ValueError:
        return True
    return False


def _settings_document(value: Any) -> dict[str, JsonValue]:
    """A settings dataclass as its camelCase JSON object, every field written."""
    document: dict[str, JsonValue] = {}
    for key, (name, _) in _settings(type(value)).items():
        item = getattr(value, name)
        document[key] = _settings_document(item) if is_dataclass(item) else item
    return document


def _error_text(error: ValidationError, *, tagged: bool) -> str:
    first = error.errors(include_url=False, include_input=False)[0]
    # A tagged union puts the tag ("Arrive") first in the location: leave it out.
    loc = first["loc"][1:] if tagged and len(first["loc"]) > 1 else first["loc"]
    where = ".".join(str(part) for part in loc)
    text = f"{where}: {first['msg']}" if where else first["msg"]
    # A key or a tag from the file may hold a line break: the message stays on one line.
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _parse_step(index: int, raw: object) -> Step:
    if not isinstance(raw, dict):
        raise ScenarioError(f"step {index}: must be an object, not {type(raw).__name__}")
    tagged = "event" in raw
    try:
        if tagged:
            return _system_command(_EVENT_STEP.validate_python(raw))
        agent = _AGENT_STEP.validate_python(raw)
    except ValidationError as error:
        raise ScenarioError(f"step {index}: {_error_text(error, tagged=tagged)}") from None
    # A JSON string in the file is a string body, not JSON text to parse again.
    request = json.dumps(agent.request) if isinstance(agent.request, str) else agent.request
    return AgentStep(
        agent=agent.agent,
        request=request,
        email_id=agent.emailId,
        new_email_id=agent.newEmailId,
        reference_id=agent.referenceId,
    )


def load_scenario(text: str | bytes) -> Scenario:
    """Parse scenario JSON; raise :class:`ScenarioError` naming what is wrong."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ScenarioError(f"not JSON: {str(error)[:200]}") from None
    if not isinstance(raw, dict):
        raise ScenarioError("a scenario must be a JSON object with a 'steps' list")
    unknown = set(raw) - {"baseUrl", "config", "steps"}
    if unknown:
        raise ScenarioError(f"unknown scenario keys: {sorted(unknown)}")
    base_url = raw.get("baseUrl")
    if base_url is not None and not isinstance(base_url, str):
        raise ScenarioError("baseUrl must be a string")
    config = _scenario_config(raw, base_url)
    steps = raw.get("steps")
    if not isinstance(steps, list):
        raise ScenarioError("a scenario must have a 'steps' list")
    steps_read = tuple(_parse_step(i, step) for i, step in enumerate(steps))
    if base_url is None and config is not None and "baseUrl" in raw["config"]:
        base_url = config.base_url
    return Scenario(base_url, steps_read, config)


def _scenario_config(raw: dict[str, Any], base_url: str | None) -> Config | None:
    """The scenario's ``config`` object read (``None`` when absent); a top-level
    ``baseUrl`` fills in, or must agree with, its ``baseUrl``."""
    if "config" not in raw:
        return None
    document = raw["config"]
    config: Config = _settings_object("config", Config, document)
    if base_url is not None:
        if "baseUrl" not in document:
            return replace(config, base_url=base_url)
        if config.base_url != base_url:
            raise ScenarioError(
                f"baseUrl {base_url!r} and config.baseUrl {config.base_url!r} differ"
            )
    return config


def run_scenario(
    scenario: Scenario, *, config: Config | None = None, policies: tuple[Policy, ...] = ()
) -> Iterator[dict[str, Any]]:
    """Run ``scenario`` and yield the records ``email-fsm replay`` prints.

    ``config`` overrides the scenario's own (:meth:`Scenario.effective_config`). For an
    agent step: ``{"step", "agent", "response"}``; for a refused system event:
    ``{"step", "response"}``; for each notification, in order:
    ``{"step", "to", "message"}``.
    """
    if config is None:
        config = scenario.effective_config()
    center = ContactCenter(config=config, policies=policies)
    for index, step in enumerate(scenario.steps):
        if isinstance(step, AgentStep):
            decision = center.request(
                step.agent,
                step.request,
                email_id=step.email_id,
                new_email_id=step.new_email_id,
                reference_id=step.reference_id,
            )
            yield {"step": index, "agent": step.agent, "response": decision.response()}
        else:
            decision = center.execute(step)
            if not isinstance(decision, Accepted):
                yield {"step": index, "response": decision.response()}
        if isinstance(decision, Accepted):
            for notification in decision.notifications:
                yield {
                    "step": index,
                    "to": notification.recipient,
                    "message": notification.to_dict(),
                }
