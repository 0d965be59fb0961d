"""A Griffe extension for the API reference: doctest examples as code blocks.

The docstrings carry doctests (``>>>`` lines and their expected output) that pytest
runs. Markdown would read them as nested quotes; this wraps each run of example lines
in a ``pycon`` fence so the reference shows them as a console session. Cross-reference
roles (``:func:`x```) are shown as the code they name.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|exc|obj):`~?([^`]+)`")


def plain_roles(text: str) -> str:
    """Sphinx roles as inline code: ``:func:`~email_fsm.decide``` → ``decide``.

    >>> plain_roles("see :func:`~email_fsm.decide` and :class:`Row`")
    'see `decide` and `Row`'
    """
    return _ROLE.sub(lambda m: f"`{m.group(1).rsplit('.', 1)[-1]}`", text)


def fence_doctests(text: str) -> str:
    """``text`` with every doctest block (up to a blank line) fenced as ``pycon``.

    >>> fence_doctests("Intro.\\n\\n>>> 1 + 1\\n2\\n\\nMore.").splitlines()
    ['Intro.', '', '```pycon', '>>> 1 + 1', '2', '```', '', 'More.']
    """
    out: list[str] = []
    in_block = False
    fence_open = False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence_open = not fence_open
        if not fence_open and not in_block and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f"{indent}```pycon")
            in_block = True
        elif in_block and not stripped:
            out.append(f"{indent}```")
            in_block = False
        out.append(line)
    if in_block:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fence the doctests of every docstring Griffe loads."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(fence_doctests(obj.docstring.value))
