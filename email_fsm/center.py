"""A thin mutable shell around the pure core: the live emails of one contact center.

:class:`ContactCenter` keeps the emails in a dict, passes commands and GWS request
bodies to :func:`~email_fsm.decide`, stores the emails of accepted decisions and hands
the decision back (with its notifications) to the caller, who delivers them. It is what
a GWS-compatible server or a simulator embeds; it does no I/O either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from .capabilities import Permissions, permissions
from .commands import Command
from .config import DEFAULT_CONFIG, Config
from .decider import decide
from .decisions import Accepted, Decision
from .email import Email
from .events import Event
from .policies import Policy

__all__ = ["ContactCenter"]


class ContactCenter:
    """The live emails, and the one place they change.

    >>> from email_fsm import Arrive, ContactCenter, Offer
    >>> center = ContactCenter()
    >>> _ = center.execute(Arrive(email_id="E1", queue="inbound", subject="Hi"))
    >>> _ = center.execute(Offer(email_id="E1", agent="a"))
    >>> decision = center.request("a", {"operationName": "Accept"}, email_id="E1")
    >>> decision.response(), center.emails["E1"].phase
    ({'statusCode': 0}, <Phase.PROCESSING: 'Processing'>)

    With ``record=True`` every accepted event is kept in :attr:`history`, so that the
    state can be rebuilt with :func:`~email_fsm.replay`.
    """

    def __init__(
        self,
        *,
        config: Config = DEFAULT_CONFIG,
        policies: Sequence[Policy] = (),
        record: bool = False,
    ) -> None:
        self.config = config
        self.policies = tuple(policies)
        self._emails: dict[str, Email] = {}
        self._history: list[Event] | None = [] if record else None
        self.emails: Mapping[str, Email] = MappingProxyType(self._emails)
        """The live emails by id (read-only view)."""

    @property
    def history(self) -> tuple[Event, ...]:
        """Every accepted event, in order (empty unless created with ``record=True``)."""
        return tuple(self._history or ())

    def execute(self, command: Command) -> Decision:
        """Decide a typed command and, when accepted, store its resulting emails."""
        return self._apply(
            decide(self._emails, command, config=self.config, policies=self.policies)
        )

    def request(
        self,
        agent: str,
        body: object,
        *,
        email_id: str | None = None,
        new_email_id: str | None = None,
        reference_id: int | None = None,
    ) -> Decision:
        """Handle a raw GWS request body (dict, JSON text or bytes) from ``agent``."""
        from .requests import handle_request  # the pydantic boundary, loaded on use

        return self._apply(
            handle_request(
                self._emails,
                body,
                actor=agent,
                email_id=email_id,
                new_email_id=new_email_id,
                reference_id=reference_id,
                config=self.config,
                policies=self.policies,
            )
        )

    def permissions(self, email_id: str, agent: str) -> Permissions:
        """What ``agent`` may do with email ``email_id`` now (raises ``KeyError``)."""
        return permissions(self._emails[email_id], agent)

    def _apply(self, decision: Decision) -> Decision:
        if isinstance(decision, Accepted):
            for email in decision.emails:
                self._emails[email.id] = email
            if self._history is not None:
                self._history.extend(decision.events)
        return decision
