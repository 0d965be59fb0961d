"""The loop of a GWS-compatible server around the model, without the HTTP around it.

A request is parsed and decided on the emails as they are, then, after an ``await`` (the
server's database, a message queue: anything that lets another request run in between),
stored only if the email is still the one it was decided on (compare-and-set), else
decided again. Each stored decision's events are appended to a log file first, so that a
restart rebuilds the same emails; its notifications go to the agents' outboxes, as JSON.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

from email_fsm import (
    Accepted,
    Command,
    Config,
    EmailStore,
    Refused,
    SystemCommand,
    decide,
    events_from_jsonl,
    events_to_jsonl,
    parse_request,
)


class Server:
    """The model behind a GWS server: ``handle`` is the body of ``POST /api/v2/me/emails``."""

    def __init__(self, log: Path, *, config: Config | None = None) -> None:
        self.log = log
        self.config = config or Config()
        # A restart replays the log: the store is the log's emails.
        events = events_from_jsonl(log.read_text("utf-8")) if log.exists() else []
        self.store = EmailStore.from_events(events, config=self.config)
        self.outboxes: dict[str, list[str]] = defaultdict(list)
        self._references = itertools.count(1)
        self._ids = (f"N{n}" for n in itertools.count(len(self.store.emails) + 1))
        self.conflicts = 0

    # --8<-- [start:handle]
    async def handle(self, actor: str, body: object, email_id: str | None = None) -> Any:
        """Answer one agent request: GWS's synchronous answer, with its referenceId."""
        reference_id = next(self._references)
        while True:
            command = parse_request(
                body,
                actor=actor,
                email_id=email_id,
                new_id=lambda: next(self._ids),
                reference_id=reference_id,
                config=self.config,
            )
            if isinstance(command, Refused):
                return command.response()
            decision = decide(self.store.emails, command, config=self.config)
            await asyncio.sleep(0)  # the server's own I/O: others may store in between
            if self._store(command, decision):
                break
            self.conflicts += 1  # the email changed meanwhile: decide again on it
        if isinstance(decision, Refused):
            return decision.response()
        return {"statusCode": 0, "referenceId": reference_id}

    # --8<-- [end:handle]

    def system(self, command: SystemCommand) -> Accepted:
        """Arrive, Offer, Revoke: what routing does (it never races with itself here)."""
        decision = decide(self.store.emails, command, config=self.config).unwrap()
        assert self._store(command, decision)
        return decision

    # --8<-- [start:store]
    def _store(self, command: Command, decision: Accepted | Refused) -> bool:
        if isinstance(decision, Refused):
            return True  # nothing to store: the refusal is the answer
        current = self.store.emails.get(command.email_id)
        if (0 if current is None else current.version) != decision.decided_on:
            return False
        with self.log.open("a", encoding="utf-8") as log:  # the log first: it is the truth
            log.write(events_to_jsonl(decision.events))
        assert self.store.apply(command, decision)
        for notification in decision.notifications:
            self.outboxes[notification.recipient].append(notification.to_json())
        return True

    # --8<-- [end:store]
