"""Write the seed corpora, ``fuzz/corpus/<target>/``, from the project's own examples.

``python -m fuzz.seeds`` rewrites them: the JSON objects of the documentation (``docs/``,
``README.md``), of the tests and of the GWS samples (``tests/fixtures/gws/``) that are
request bodies, system events, scenarios or Bayeux messages; the event, decision and
email records of a history through the model; the simulator's example scenario, as
TOML and as JSON. Each seed is the harness's choice bytes (see its ``test_one_input``),
then the file; each is named by its SHA-1, as libFuzzer names what it finds.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from email_fsm import Accepted, email_to_json, handle_request
from email_fsm.codec import decision_to_json, event_to_json, events_to_jsonl
from fuzz.common import CORPORA, phase_center, phase_emails

ROOT = CORPORA.parent.parent
MAX_SEEDS = 40
EMAIL_IDS = [*sorted(phase_emails()), "missing", ""]  # fuzz.requests.IDS


def _objects(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """Every JSON object written in the files, nested ones included."""
    decoder = json.JSONDecoder()
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        start = text.find("{")
        while start != -1:
            try:
                value, _ = decoder.raw_decode(text, start)
            except ValueError:
                pass
            else:
                if isinstance(value, dict):
                    yield value
            start = text.find("{", start + 1)


def _sources() -> list[Path]:
    gws = ROOT / "tests/fixtures/gws"
    return sorted(
        [
            ROOT / "README.md",
            *ROOT.glob("docs/*.md"),
            *ROOT.glob("tests/*.py"),
            *gws.rglob("*.txt"),
            *gws.rglob("*.json"),
        ]
    )


def _distinct(values: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for value in values:
        if key in value:
            seen.setdefault(json.dumps(value, sort_keys=True), value)
    return [seen[k] for k in sorted(seen, key=lambda k: (len(k), k))]


def _email_for(operation: object) -> int:
    """The email a request seed names: one in the phase its operation applies to."""
    target = {"Accept": "I1", "Reject": "I1", "Save": "D2", "Send": "D2", "Cancel": "D1"}
    return EMAIL_IDS.index(target.get(str(operation), "P1"))


def _text(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def corpora() -> dict[str, list[bytes]]:
    """The seeds of each target."""
    objects = list(_objects(_sources()))
    requests = _distinct(objects, "operationName")
    events = [o for o in _distinct(objects, "event") if o["event"] in ("Arrive", "Offer", "Revoke")]
    scenarios = _distinct(objects, "steps")
    bayeux = _distinct(objects, "channel")
    center = phase_center()
    emails = phase_emails()
    history = center.history

    decisions = []
    for body in requests:
        email_id = EMAIL_IDS[_email_for(body["operationName"])]
        decisions.append(
            handle_request(emails, body, actor="a", email_id=email_id, new_email_id="N1")
        )
    accepted = [d for d in decisions if isinstance(d, Accepted)]
    refused = [d for d in decisions if not isinstance(d, Accepted)]

    toml_text = (ROOT / "examples/sim/support.toml").read_bytes()
    handshake = {"channel": "/meta/handshake", "version": "1.0", "id": "1",
                 "supportedConnectionTypes": ["long-polling"]}  # fmt: skip
    meta = [
        [handshake],
        [{"channel": "/meta/connect", "clientId": "@", "connectionType": "long-polling",
          "advice": {"timeout": 0}, "id": "2"}],
        [{"channel": "/meta/subscribe", "clientId": "@", "subscription": "/v2/me/*", "id": 3}],
        [{"channel": "/meta/subscribe", "clientId": "@", "subscription": ["/v2/me/emails"]},
         {"channel": "/meta/connect", "clientId": "@", "connectionType": "long-polling"}],
        [{"channel": "/meta/unsubscribe", "clientId": "@", "subscription": "/v2/me/**"}],
        [{"channel": "/meta/disconnect", "clientId": "@", "id": "9"}],
        [{"channel": "/v2/me/emails", "clientId": "@", "data": {}}],
    ]  # fmt: skip
    bayeux_requests: list[object] = [*meta, *bayeux]

    sessions = [{"operationName": "StartContactCenterSession", "channels": ["email"]},
                {"operationName": "EndContactCenterSession"}]  # fmt: skip
    http: list[bytes] = []
    for body in requests[:12]:
        http.append(bytes([0, _email_for(body["operationName"]) % 8, 0]) + _text(body))
    http += [bytes([2, 0, 0]) + _text(body) for body in sessions]
    http += [bytes([3, 0, 0]) + _text(r) for r in meta[:3]]
    http += [bytes([4, 0, 0]) + _text(e) for e in events[:8]]
    http += [bytes([1, 0, 0]) + _text({"operationName": "Create", "queueName": "outbound"})]
    http += [bytes([0, 2, 2]) + b"{}", bytes([2, 0, 3]) + b"not json"]

    return {
        "requests": [bytes([_email_for(b["operationName"]), 0, 0, 2]) + _text(b) for b in requests]
        + [bytes([4, 0, 1, 0]) + b'{"operationName": "Complete", "unknown": 1}',
           bytes([4, 0, 0, 3]) + bytes(range(40))],
        "system_events": [bytes([2]) + _text(e) for e in events]
        + [bytes([3]) + bytes(range(30)), bytes([1]) + b'{"event": "Arrive"}'],
        "events": [event_to_json(e).encode() for e in history]
        + [events_to_jsonl(history).encode()],
        "decisions": [decision_to_json(d).encode() for d in accepted[:24] + refused[:8]],
        "emails": [email_to_json(e).encode() for e in emails.values()]
        + [email_to_json(e).encode() for d in accepted[:12] for e in d.emails],
        "scenario": [_text(s) for s in scenarios],
        "sim_scenario": [
            bytes([1]) + toml_text,
            bytes([0]) + _text(tomllib.loads(toml_text.decode())),
        ],
        "bayeux": [bytes([0, 0]) + _text(r) for r in bayeux_requests]
        + [bytes([0, 1]) + _text(meta[1]), bytes([1, 0]) + _text(meta[2])],
        "http": http,
    }  # fmt: skip


def write(target: str, seeds: list[bytes]) -> int:
    directory = CORPORA / target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    unique = {hashlib.sha1(seed).hexdigest(): seed for seed in seeds}
    for name in sorted(unique, key=lambda n: (len(unique[n]), n))[:MAX_SEEDS]:
        (directory / name).write_bytes(unique[name])
    return min(len(unique), MAX_SEEDS)


def main() -> None:
    for target, seeds in corpora().items():
        print(f"{target}: {write(target, seeds)} seeds")


if __name__ == "__main__":
    main()
