"""LockedStore under real threads: an invitation is accepted or rejected, never both.

Two threads race over the same 3,000 invitations, one sending each invitee's Accept and
the other each invitee's Reject, in different shuffled orders; the interpreter switches
threads as often as it can, so that a store that decides and stores in two steps would
be caught between them. (The plain EmailStore, which does not lock, ends such a round
with some emails both accepted and rejected; it is not tested here because how many, if
any, depends on the scheduler.)
"""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest

from email_fsm import (
    Accept,
    Arrive,
    Command,
    Decision,
    Offer,
    Phase,
    Reject,
    decide,
    replay,
)
from email_fsm.events import EmailOffered, Event, InvitationAccepted, InvitationRejected
from email_fsm.threadsafe import LockedStore

INVITATIONS = 3_000
ROUNDS = 3
AGENTS = 40


@pytest.fixture(autouse=True)
def _switch_often() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _invitations(store: LockedStore) -> list[tuple[str, str]]:
    pairs = [(f"E{i}", f"agent{i % AGENTS}") for i in range(INVITATIONS)]
    for email_id, agent in pairs:
        store.execute(Arrive(email_id=email_id, queue="q")).unwrap()
        store.execute(Offer(email_id=email_id, agent=agent)).unwrap()
    return pairs


def _race(*workers: Callable[[], None]) -> None:
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(work: Callable[[], None]) -> None:
        start.wait()
        try:
            work()
        except BaseException as error:  # surfaced below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def _answers_per_offer(history: Sequence[Event]) -> dict[str, list[int]]:
    """For each email, how many Accepted/Rejected events followed each EmailOffered."""
    answers: dict[str, list[int]] = {}
    for event in history:
        if isinstance(event, EmailOffered):
            answers.setdefault(event.email_id, []).append(0)
        elif isinstance(event, InvitationAccepted | InvitationRejected):
            answers[event.email_id][-1] += 1
    return answers


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_accept_and_reject_race_one_answer_per_invitation(round_: int) -> None:
    store = LockedStore(record=True)
    pairs = _invitations(store)
    shuffle = random.Random(round_)
    accepts: list[Command] = [Accept(actor=agent, email_id=e) for e, agent in pairs]
    rejects: list[Command] = [Reject(actor=agent, email_id=e) for e, agent in pairs]
    shuffle.shuffle(accepts)
    shuffle.shuffle(rejects)
    decisions: dict[str, list[Decision]] = {"accept": [], "reject": []}

    def send(kind: str, commands: list[Command]) -> Callable[[], None]:
        def work() -> None:
            for command in commands:
                decisions[kind].append(store.execute(command))

        return work

    _race(send("accept", accepts), send("reject", rejects))

    answers = _answers_per_offer(store.history)
    assert set(answers) == {e for e, _ in pairs}
    assert all(counts == [1] for counts in answers.values()), "an invitation answered twice"
    accepted = sum(d.accepted for d in decisions["accept"])
    rejected = sum(d.accepted for d in decisions["reject"])
    assert accepted + rejected == INVITATIONS  # each invitation: exactly one winner
    emails = store.emails
    assert sum(e.phase is Phase.PROCESSING for e in emails.values()) == accepted
    assert len(store.queued("q")) == rejected
    assert replay(store.history) == dict(emails)


def test_threads_deciding_outside_the_lock_store_by_compare_and_set() -> None:
    store = LockedStore(record=True)
    pairs = _invitations(store)
    shuffle = random.Random(7)
    conflicts = [0, 0]

    def answer(index: int, make: Callable[[str, str], Command]) -> Callable[[], None]:
        order = list(pairs)
        shuffle.shuffle(order)

        def work() -> None:
            for email_id, agent in order:
                command = make(agent, email_id)
                while True:
                    decision = decide(store.emails, command)
                    if store.apply(command, decision):
                        break
                    conflicts[index] += 1

        return work

    _race(
        answer(0, lambda agent, e: Accept(actor=agent, email_id=e)),
        answer(1, lambda agent, e: Reject(actor=agent, email_id=e)),
    )
    answers = _answers_per_offer(store.history)
    assert all(counts == [1] for counts in answers.values()), "an invitation answered twice"
    assert replay(store.history) == dict(store.emails)


def test_locked_store_answers_like_the_plain_store() -> None:
    store = LockedStore(record=True, evict_after=5.0)
    store.execute(Arrive(email_id="E1", queue="q"), at=1.0).unwrap()
    store.execute(Arrive(email_id="E2", queue="q"), at=1.0).unwrap()
    store.execute(Offer(email_id="E1", agent="a"), at=2.0).unwrap()
    assert [e.id for e in store.invited("a")] == ["E1"]
    assert [e.id for e in store.held_by("a")] == ["E1"]
    assert [e.id for e in store.queued("q")] == ["E2"]
    assert [e.id for e in store.in_phase(Phase.INVITED)] == ["E1"]
    assert store.permissions("E1", "a").allowed
    assert store.request("a", {"operationName": "Accept"}, email_id="E1", at=3.0).accepted
    assert [e.id for e in store.owned_by("a")] == ["E1"]
    assert store.request("a", {"operationName": "Complete"}, email_id="E1", at=4.0).accepted
    rebuilt = LockedStore.from_events(store.history, record=True)
    assert dict(rebuilt.emails) == dict(store.emails)
    assert rebuilt.history == store.history
    assert rebuilt.evict_terminal() == 1  # no times in a rebuilt store: before=None
    assert store.evict_terminal(before=3.0) == 0
    store.execute(Offer(email_id="E2", agent="b"), at=9.0).unwrap()  # evicts up to 4.0
    assert set(store.emails) == {"E2"}
    assert store.evict_terminal() == 0
