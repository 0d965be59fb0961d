"""What the harnesses share: the instrumented import of the package, the emails in each
phase, the oracles' helpers and the ``main`` that starts libFuzzer.

The package :mod:`fuzz` itself imports ``email_fsm`` (with the server and the
simulator) under :func:`atheris.instrument_imports`, before any harness runs.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-untyped]  # no stubs, no py.typed

from email_fsm import (
    Accept,
    Accepted,
    Arrive,
    Complete,
    ContactCenter,
    Create,
    Email,
    EmailFields,
    Offer,
    Save,
    Send,
)

__all__ = [
    "CORPORA",
    "HERE",
    "assert_clear",
    "decoded_json",
    "forms",
    "fuzzed_json",
    "header",
    "main",
    "phase_center",
    "phase_emails",
]

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpus"

AGENT = "a"
"""The agent of every email in :func:`phase_emails` (``z`` holds the bystander ``X``)."""


def _accepted(decision: object) -> None:
    if not isinstance(decision, Accepted):
        raise RuntimeError(f"the fixed emails could not be built: {decision!r}")


def phase_emails() -> dict[str, Email]:
    """Emails in each phase, built through the model: queued ``Q1``, invited ``I1``,
    processing ``P1`` (with user data), completed ``C1``, composing ``D1`` (empty) and
    ``D2`` (with a recipient), sent ``S1``, and ``X``, processing by another agent."""
    return dict(phase_center().emails)


def phase_center() -> ContactCenter:
    """The contact center of :func:`phase_emails`, which recorded its history."""
    center = ContactCenter(record=True)
    run = center.execute
    content: dict[str, Any] = {
        "from_": "customer@example.com",
        "to": ("support@example.com",),
        "subject": "Hi",
        "contact_id": "C1",
        "user_data": {"VIP": True, "Segment": "gold"},
    }
    for email_id in ("Q1", "I1", "P1", "C1", "X"):
        _accepted(run(Arrive(email_id=email_id, queue="inbound", **content)))
    for email_id in ("I1", "P1", "C1"):
        _accepted(run(Offer(email_id=email_id, agent=AGENT)))
    _accepted(run(Offer(email_id="X", agent="z")))
    _accepted(run(Accept(actor="z", email_id="X")))
    for email_id in ("P1", "C1"):
        _accepted(run(Accept(actor=AGENT, email_id=email_id)))
    _accepted(run(Complete(actor=AGENT, email_id="C1")))
    fields = EmailFields(to=("customer@example.com",), subject="Hello", body="Hi")
    for email_id in ("D1", "D2", "S1"):
        _accepted(run(Create(actor=AGENT, email_id=email_id, queue="outbound")))
    for email_id in ("D2", "S1"):
        _accepted(run(Save(actor=AGENT, email_id=email_id, fields=fields)))
    _accepted(run(Send(actor=AGENT, email_id="S1", queue="outbound")))
    return center


def _no_constant(name: str) -> object:
    raise ValueError(name)


def decoded_json(data: bytes) -> tuple[bool, object]:
    """``(True, value)`` for bytes that are strict JSON (no NaN or Infinity), else
    ``(False, None)``."""
    try:
        return True, json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return False, None


def assert_clear(error: BaseException, *, prefixes: tuple[str, ...] = ("",)) -> None:
    """An error the boundary documents must say what is wrong: a message, which starts
    with one of ``prefixes`` (and is on one line, but a simulator scenario's list)."""
    message = str(error)
    assert message, f"{type(error).__name__} with no message"
    assert message.startswith(prefixes), message
    if not message.startswith("invalid scenario:"):
        assert "\n" not in message, message


def header(data: bytes, size: int) -> tuple[bytes, bytes]:
    """The first ``size`` bytes of an input (the harness's choices, zero when the input
    is shorter) and the rest (the payload): a seed is its choices, then a file."""
    return data[:size].ljust(size, b"\0"), data[size:]


def forms(payload: bytes) -> list[str | bytes]:
    """The forms a text input arrives in: the bytes, and their text when it is UTF-8."""
    try:
        return [payload, payload.decode("utf-8")]
    except UnicodeDecodeError:
        return [payload]


KEYS = [
    "operationName", "queueName", "queueUri", "email", "to", "cc", "bcc", "from", "subject",
    "body", "bodyAsPlainText", "mime", "userData", "keys", "disposition", "comment",
    "documentId", "uri", "fileName", "targetUri", "targetAgent", "targetQueue", "inFocus",
    "event", "emailId", "agent", "receivedDate", "contactId", "parentId", "channel", "id",
    "clientId", "subscription", "version", "supportedConnectionTypes", "advice", "timeout",
    "steps", "request", "config", "baseUrl", "referenceId", "newEmailId",
]  # fmt: skip
"""Names the boundaries read (and a few they do not), for :func:`fuzzed_json`'s keys."""


def fuzzed_json(provider: atheris.FuzzedDataProvider, depth: int = 0) -> Any:
    """A JSON value built from the provider, its object keys mostly names from
    :data:`KEYS`: structure that raw bytes reach only by luck."""
    kind = provider.ConsumeIntInRange(0, 8 if depth < 3 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return provider.ConsumeBool()
    if kind == 2:
        return provider.ConsumeIntInRange(-(2**63), 2**63)
    if kind == 3:
        return provider.ConsumeRegularFloat()
    if kind in (4, 5):
        return provider.ConsumeUnicodeNoSurrogates(provider.ConsumeIntInRange(0, 40))
    if kind == 6:
        return [fuzzed_json(provider, depth + 1) for _ in range(provider.ConsumeIntInRange(0, 4))]
    value: dict[str, Any] = {}
    for _ in range(provider.ConsumeIntInRange(0, 6)):
        if provider.ConsumeIntInRange(0, 7):
            key = provider.PickValueInList(KEYS)
        else:
            key = provider.ConsumeUnicodeNoSurrogates(8)
        value[key] = fuzzed_json(provider, depth + 1)
    return value


def tagged_body(mode: int, payload: bytes, tag: str, names: list[str]) -> object:
    """The payload as a request body: bytes (mode 0), text (1), the JSON value it
    encodes or the bytes when it is not JSON (2), or (3) the seed of an object whose
    ``tag`` is one of ``names``, with fuzzed keys beside it."""
    if mode == 0:
        return payload
    if mode == 1:
        return payload.decode("utf-8", "surrogateescape")
    if mode == 2:
        ok, value = decoded_json(payload)
        return value if ok else payload
    provider = atheris.FuzzedDataProvider(payload)
    body = fuzzed_json(provider, depth=2)
    body = body if isinstance(body, dict) else {}
    return {tag: provider.PickValueInList(names), **body}


def main(target: str, test_one_input: Callable[[bytes], None]) -> None:
    """Fuzz ``test_one_input`` with the command line's libFuzzer arguments.

    With no corpus directory among them, the run reads ``fuzz/corpus/<target>`` and
    writes what it finds into a fresh temporary directory (never into the committed
    seeds); crash files go to the working directory unless ``-artifact_prefix`` says.
    """
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        argv += [tempfile.mkdtemp(prefix=f"fuzz-{target}-"), str(CORPORA / target)]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
