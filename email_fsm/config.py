"""Settings of the model: the email uri, the fields rendered, defaults, strictness, limits.

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
    max_body_bytes: int = 1024 * 1024
    """A GWS request body (JSON text) over this is refused before it is parsed in full."""
    max_user_data_bytes: int = 1024 * 1024
    """An email's userData in all, as compact JSON."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """How the model renders and what it assumes when a request is silent."""

    base_url: str = "http://localhost:8080"
    """The ``{baseUrl}`` of :attr:`uri_template`."""
    uri_template: str = "{baseUrl}/api/v2/me/emails/{id}"
    """Every email's ``uri`` (GWS's own samples write ``{baseUrl}/api/v2/email/{id}``);
    an attachment's is the email's followed by ``/attachments/<documentId>``."""
    extended_fields: bool = False
    """Add what later GWS releases send in every email object: ``emailType``,
    ``assignedTo``, ``suggestedQueueUris: []``, and ``userData: {}`` when empty. Off, the
    documentation's samples are reproduced exactly."""
    strict_parameters: bool = False
    """Refuse a request parameter the model does not know (10, naming the closest known
    one), instead of ignoring it and naming it in :attr:`Accepted.ignored`."""
    default_queue: str = "default"
    """The queue of an outbound email created without one."""
    disposition_key: str = "DispositionCode"
    """The userData key SetDisposition writes when no ``dispositionKey`` is given."""
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        try:
            self.uri_template.format(baseUrl="b", id="i")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"uri_template {self.uri_template!r} may name only {{baseUrl}} and {{id}}"
            ) from error

    def email_uri(self, email_id: str) -> str:
        """The ``uri`` of email ``email_id``.

        >>> Config(uri_template="{baseUrl}/api/v2/email/{id}").email_uri("E1")
        'http://localhost:8080/api/v2/email/E1'
        """
        return self.uri_template.format(baseUrl=self.base_url, id=email_id)


DEFAULT_CONFIG = Config()
"""The documented defaults."""
