"""A simulation loop around the model: the loop owns time and chance, the model the rules.

Emails arrive in one queue; routing offers the oldest queued email (the store's index,
no scan) to a free agent; an agent rejects one invitation in ten, and otherwise accepts,
sets a disposition and completes the email, which the business rule
``require_disposition`` insists on. The store is strict, so that a command the model
refuses stops the run (a refusal here is a bug in the simulation, not an answer), and it
forgets each finished email, so that memory does not grow with the number simulated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from email_fsm import (
    Accept,
    Arrive,
    Complete,
    EmailStore,
    Offer,
    Reject,
    SetDisposition,
    require_disposition,
)

QUEUE = "inbound"


@dataclass(frozen=True)
class Outcome:
    """What a run did."""

    completed: int
    rejections: int
    commands: int
    most_live_emails: int
    live_emails_at_the_end: int


# --8<-- [start:loop]
def simulate(emails: int, agents: int, *, seed: int) -> Outcome:
    """Take ``emails`` emails through the contact center; the same seed, the same run."""
    chance = random.Random(seed)
    store = EmailStore(policies=[require_disposition()], strict=True)
    free = [f"agent{n}" for n in range(agents)]
    arrived = completed = rejections = commands = most_live = 0
    now = 0.0
    while completed < emails:
        now += 1.0
        if arrived < emails:
            arrived += 1
            store.execute(Arrive(email_id=f"E{arrived}", queue=QUEUE), at=now)
            commands += 1
        for email in store.queued(QUEUE):  # oldest first
            if not free:
                break
            agent = free.pop(chance.randrange(len(free)))
            store.execute(Offer(email_id=email.id, agent=agent), at=now)
            if chance.random() < 0.1:
                store.execute(Reject(actor=agent, email_id=email.id), at=now)
                rejections += 1
                commands += 2
            else:
                for command in (
                    Accept(actor=agent, email_id=email.id),
                    SetDisposition(actor=agent, email_id=email.id, disposition="Resolved"),
                    Complete(actor=agent, email_id=email.id),
                ):
                    store.execute(command, at=now)
                completed += 1
                commands += 4
            free.append(agent)
        most_live = max(most_live, len(store.emails))
        store.evict_terminal(before=now)
    return Outcome(completed, rejections, commands, most_live, len(store.emails))


# --8<-- [end:loop]


if __name__ == "__main__":
    print(simulate(10_000, 25, seed=1))
