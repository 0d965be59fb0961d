"""Decision records through ``decision_from_json``.

The oracles: only :class:`~email_fsm.codec.CodecError` escapes; an accepted record
round-trips (``decision_to_json`` then ``decision_from_json`` gives the same decision
and the same text again).
"""

from __future__ import annotations

import sys

from email_fsm.codec import CodecError, decision_from_json, decision_to_json
from fuzz.common import assert_clear, forms, main


def test_one_input(data: bytes) -> None:
    """Input: the file's bytes, read as bytes and (when UTF-8) as text."""
    for text in forms(data):
        _one(text)


def _one(text: str | bytes) -> None:
    try:
        decision = decision_from_json(text)
    except CodecError as error:
        assert_clear(error)
        return
    try:
        written = decision_to_json(decision)
    except CodecError:
        return  # a lone surrogate has no UTF-8 form: documented
    again = decision_from_json(written)
    assert again == decision, (decision, again)
    assert decision_to_json(again) == written


if __name__ == "__main__":
    main("decisions", test_one_input)
    sys.exit(0)
