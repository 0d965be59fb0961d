"""Email records through ``email_from_json``.

The oracles: only pydantic's ``ValidationError`` (a ``ValueError``) escapes, as the
function documents; an accepted email round-trips (``email_to_json`` then
``email_from_json`` gives the same email and the same text again).
"""

from __future__ import annotations

import sys

from pydantic import ValidationError

from email_fsm import email_from_json, email_to_json
from fuzz.common import forms, main


def test_one_input(data: bytes) -> None:
    """Input: the file's bytes, read as bytes and (when UTF-8) as text."""
    for text in forms(data):
        _one(text)


def _one(text: str | bytes) -> None:
    try:
        email = email_from_json(text)
    except ValidationError:
        return
    written = email_to_json(email)
    again = email_from_json(written)
    assert again == email, (email, again)
    assert email_to_json(again) == written


if __name__ == "__main__":
    main("emails", test_one_input)
    sys.exit(0)
