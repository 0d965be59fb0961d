"""Event records through ``event_from_json`` and JSON Lines through ``events_from_jsonl``.

The oracles: only :class:`~email_fsm.codec.CodecError` escapes; an accepted record
round-trips (``event_to_json`` then ``event_from_json`` gives the same event, and the
same text again); accepted lines round-trip through ``events_to_jsonl``.
"""

from __future__ import annotations

import sys

from email_fsm.codec import (
    CodecError,
    event_from_json,
    event_to_json,
    events_from_jsonl,
    events_to_jsonl,
)
from fuzz.common import assert_clear, forms, main


def test_one_input(data: bytes) -> None:
    """Input: the file's bytes, read as bytes and (when UTF-8) as text."""
    for text in forms(data):
        _one(text)


def _one(text: str | bytes) -> None:
    try:
        event = event_from_json(text)
    except CodecError as error:
        assert_clear(error)
    else:
        try:
            written = event_to_json(event)
        except CodecError:
            pass  # a lone surrogate has no UTF-8 form: documented
        else:
            again = event_from_json(written)
            assert again == event, (event, again)
            assert event_to_json(again) == written
    try:
        events = events_from_jsonl(text)
    except CodecError as error:
        assert_clear(error, prefixes=("line ", "not UTF-8"))
        return
    try:
        lines = events_to_jsonl(events)
    except CodecError:
        return
    assert events_from_jsonl(lines) == events, events


if __name__ == "__main__":
    main("events", test_one_input)
    sys.exit(0)
