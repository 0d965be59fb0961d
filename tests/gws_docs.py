"""Load GWS documentation samples, repairing their doc artifacts.

The samples on docs.genesys.com were typed by hand: a space after every ``:`` in URIs
and times (``http: //localhost: 8080``, ``15: 54: 13``), Python's ``None``, unescaped
quotes inside string values, a value quoted twice (``""DATAUPDATE-@123""``), and (Save)
a missing closing brace. :func:`load_sample`
repairs all of them and returns the JSON object (docs/spec.md, GWS documentation
samples). The email samples write the email uri ``<baseUrl>/api/v2/email/<id>``; by
default the loader rewrites it to the model's default ``<baseUrl>/api/v2/me/emails/<id>``,
and with ``gws_path=True`` keeps it (to compare with ``Config(uri_template=GWS_URI)``).

The pages of GWS's sibling APIs (Open Media, Chat) are in ``fixtures/gws/siblings``
(:func:`sibling`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# The GWS documentation samples, kept as the pages print them (see the README there).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gws"
SIBLINGS = FIXTURES / "siblings"

GWS_URI = "{baseUrl}/api/v2/email/{id}"
"""The email uri as GWS's own samples write it (singular ``email``, no ``me``)."""

_TIME = re.compile(r"(\d{2}): (\d{2}): (\d{2})")
_EMAIL_URI = re.compile(r"http: //([\w.-]+): (\d+)/api/v2/email/")
_URI = re.compile(r"http: //([\w.-]+): (\d+)/")
_DOUBLED = re.compile(r'(?<=:)(\s*)""([^"\n]+)""(?=\s*[,}\]])')
_NONE = re.compile(r"(?<=[:\[,])(\s*)None(?=\s*[,}\]])")


def _escape_inner_quotes(text: str) -> str:
    """Escape quotes inside strings: a quote closes a string only before ``: , } ]``."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and in_string:
            out.append(text[i : i + 2])
            i += 2
            continue
        if char == '"':
            if not in_string:
                in_string = True
            else:
                rest = text[i + 1 :].lstrip()
                if not rest or rest[0] in ":,}]":
                    in_string = False
                else:
                    out.append('\\"')
                    i += 1
                    continue
        out.append(char)
        i += 1
    return "".join(out)


def _close_braces(text: str) -> str:
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
    return text + "}" * depth


def repair(text: str, *, gws_path: bool = False) -> str:
    """Repair the doc artifacts of a sample's JSON text.

    A typed email uri gets the model's default path unless ``gws_path``, which keeps the
    path as the sample wrote it.
    """
    if not gws_path:
        text = _EMAIL_URI.sub(r"http://\1:\2/api/v2/me/emails/", text)
    text = _URI.sub(r"http://\1:\2/", text)
    text = _TIME.sub(r"\1:\2:\3", text)
    text = _NONE.sub(r"\1null", text)
    text = _DOUBLED.sub(r'\1"\2"', text)
    return _close_braces(_escape_inner_quotes(text))


def load_sample(text: str, *, gws_path: bool = False) -> Any:
    """Parse a sample's text after :func:`repair`."""
    return json.loads(repair(text, gws_path=gws_path))


def transfer_page_notification(*, gws_path: bool = False) -> dict[str, Any]:
    """The notification of the EmailTransfer page (the project's seed)."""
    page = (FIXTURES / "EmailTransfer.page.txt").read_text("utf-8")
    line = next(line for line in page.splitlines() if line.startswith('{ "referenceId"'))
    sample: dict[str, Any] = load_sample(line, gws_path=gws_path)
    return sample


def fixture(name: str, *, gws_path: bool = False) -> dict[str, Any]:
    """A JSON fixture by file name, repaired."""
    text = (FIXTURES / name).read_text("utf-8")
    sample: dict[str, Any] = load_sample(text, gws_path=gws_path)
    return sample


def sibling(name: str) -> dict[str, Any]:
    """A notification of a sibling API's page (``siblings/<name>``), repaired."""
    sample: dict[str, Any] = load_sample((SIBLINGS / name).read_text("utf-8"))
    return sample
