"""Settings of the model: base URL, default queue, disposition key, limits.

Everything here is configurable per call to :func:`email_fsm.decide`; the defaults are
those of ``docs/spec.md``, "Refusals" (the limits) and "Notifications" (the base URL).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["DEFAULT_CONFIG", "Config", "Limits"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Size limits on request values; a value over a limit is refused with 10.

    String sizes are counted in UTF-8 bytes.
    """

    max_user_data_keys: int = 1000
    max_key_length: int = 256
    max_value_bytes: int = 64 * 1024
    max_comment_bytes: int = 64 * 1024
    max_attachments: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """How the model renders and what it assumes when a request is silent."""

    base_url: str = "http://localhost:8080"
    """Prefix of every email ``uri``: ``<base_url>/api/v2/me/emails/<id>``."""
    default_queue: str = "default"
    """The queue of an outbound email created without one."""
    disposition_key: str = "DispositionCode"
    """The userData key SetDisposition writes when no ``dispositionKey`` is given."""
    limits: Limits = field(default_factory=Limits)


DEFAULT_CONFIG = Config()
"""The documented defaults."""
