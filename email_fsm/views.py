"""Views: an email as an agent sees it now, for the answers to GET requests.

A desktop that reconnects asks GWS what it holds: ``GET /api/v2/me/emails`` lists the
uris of the agent's emails, ``GET /api/v2/me/emails?fields=*`` the email objects
themselves, and ``GET /api/v2/me/emails/{id}`` one of them. :func:`view` renders the
email object as the agent sees it, with the renderer the notifications use
(:func:`email_fsm.notifications.email_object`); :func:`agent_emails` the body of the
list request, as GWS answers list requests (its "Request Parameters" page):
``{"statusCode": 0, "uris": [...]}``, or with ``fields=*`` the objects under the
collection's name, ``{"statusCode": 0, "emails": [...]}``.

GWS lists only what the agent holds: the holder (owner or invitee) of an Invited,
Processing or Composing email sees it, in that phase's view state and with their
capabilities; anyone else, and everyone once the email is Queued or terminal, sees
nothing (a server answers "not found").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .capabilities import capabilities
from .config import DEFAULT_CONFIG, Config
from .email import Email
from .notifications import email_object
from .vocabulary import HOLDER_VIEWS, TERMINAL_PHASES, StatusCode

__all__ = ["agent_emails", "view"]


def view(email: Email, agent: str, *, config: Config = DEFAULT_CONFIG) -> dict[str, Any] | None:
    """The GWS email object of ``email`` as ``agent`` sees it now, or ``None``.

    For the holder (the owner, or the invitee): the state is what the holder sees of
    the phase (:data:`~email_fsm.vocabulary.HOLDER_VIEWS`), the capabilities are the
    agent's (:func:`email_fsm.capabilities`), the uri and the fields of later releases
    follow ``config``; the object is JSON values, as a notification renders it. Anyone
    else, and anyone for a Queued or terminal email, gets ``None``.

    After an accepted step, the holder's view of an email equals the email object of each
    notification the step sent them about it, with one exception: AttachmentAdded and
    AttachmentRemoved notifications always show ``attachments`` (possibly ``[]``), a view
    only when the email has some.

    >>> from email_fsm import Content, Direction, Email, Phase
    >>> e = Email(id="E1", direction=Direction.INBOUND, phase=Phase.PROCESSING, queue="q",
    ...           owner="alice", content=Content(subject="Hello"))
    >>> seen = view(e, "alice")
    >>> seen["state"], seen["subject"], seen["uri"]
    ('Processing', 'Hello', 'http://localhost:8080/api/v2/me/emails/E1')
    >>> seen["capabilities"][:3]
    ['Reply', 'ReplyAll', 'Transfer']
    >>> view(e, "bob") is None
    True
    """
    if not _holds(email, agent):
        return None
    return _render(email, agent, config)


def agent_emails(
    emails: Mapping[str, Email],
    agent: str,
    *,
    config: Config = DEFAULT_CONFIG,
    fields: bool = False,
) -> dict[str, Any]:
    """The body of ``GET /api/v2/me/emails``: the emails ``agent`` holds now.

    ``{"statusCode": 0, "uris": [...]}``, each uri as ``config.uri_template`` writes it;
    with ``fields`` (the request's ``fields=*``) ``{"statusCode": 0, "emails": [...]}``,
    each email's :func:`view`. Either way in the order of the emails' ids (as strings:
    ``"E10"`` before ``"E2"``), so the same emails always give the same body. It scans
    every email of ``emails``; an agent who holds none gets an empty list.

    >>> from email_fsm import Direction, Email, Phase
    >>> emails = {
    ...     "E2": Email(id="E2", direction=Direction.OUTBOUND, phase=Phase.COMPOSING,
    ...                 queue="q", owner="alice"),
    ...     "E1": Email(id="E1", direction=Direction.INBOUND, phase=Phase.INVITED,
    ...                 queue="q", invitee="alice"),
    ...     "E3": Email(id="E3", direction=Direction.INBOUND, phase=Phase.INVITED,
    ...                 queue="q", invitee="bob"),
    ... }
    >>> agent_emails(emails, "alice")["uris"]
    ['http://localhost:8080/api/v2/me/emails/E1', 'http://localhost:8080/api/v2/me/emails/E2']
    >>> [(e["id"], e["state"]) for e in agent_emails(emails, "alice", fields=True)["emails"]]
    [('E1', 'Invited'), ('E2', 'Composing')]
    >>> agent_emails(emails, "carol")
    {'statusCode': 0, 'uris': []}
    """
    held = sorted((email for email in emails.values() if _holds(email, agent)), key=_by_id)
    if fields:
        return {
            "statusCode": _OK,
            "emails": [_render(email, agent, config) for email in held],
        }
    return {"statusCode": _OK, "uris": [config.email_uri(email.id) for email in held]}


def _holds(email: Email, agent: str) -> bool:
    """Whether ``agent`` holds ``email`` in a phase with a holder (not Queued, not terminal)."""
    return agent == email.holder and email.phase in _HELD_PHASES


def _render(email: Email, agent: str, config: Config) -> dict[str, Any]:
    """The email object of an email ``agent`` holds."""
    return email_object(
        email,
        state=HOLDER_VIEWS[email.phase],
        capabilities=capabilities(email, agent),
        config=config,
    )


def _by_id(email: Email) -> str:
    return email.id


_HELD_PHASES = frozenset(phase for phase in HOLDER_VIEWS if phase not in TERMINAL_PHASES)
"""The phases an email has a holder in: Invited, Processing, Composing."""

_OK = int(StatusCode.OK)
"""The ``statusCode`` of an answered request, as a plain int."""
