"""EmailStore: seeding, strict mode, compare-and-set, indexes and eviction."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, rule

from email_fsm import (
    Accept,
    AddComment,
    Arrive,
    Cancel,
    Complete,
    ContactCenter,
    Create,
    Direction,
    Email,
    Offer,
    Phase,
    Refused,
    RefusedError,
    Reject,
    Reply,
    Revoke,
    StatusCode,
    decide,
    replay,
)
from email_fsm.evolution import evolve
from email_fsm.store import EmailStore
from email_fsm.testing import EmailLifecycleMachine
from email_fsm.vocabulary import TERMINAL_PHASES


def _invited(store: EmailStore, email_id: str, agent: str = "a", queue: str = "q") -> None:
    store.execute(Arrive(email_id=email_id, queue=queue)).unwrap()
    store.execute(Offer(email_id=email_id, agent=agent)).unwrap()


def _processing(store: EmailStore, email_id: str, agent: str = "a") -> None:
    _invited(store, email_id, agent)
    store.execute(Accept(actor=agent, email_id=email_id)).unwrap()


def _ids(emails: tuple[Email, ...]) -> list[str]:
    return [e.id for e in emails]


def _snapshot(store: EmailStore) -> tuple[dict[str, Email], int]:
    return dict(store.emails), len(store.history)


# ---------------------------------------------------------------------- the alias


def test_contact_center_is_the_store() -> None:
    from email_fsm.center import ContactCenter as FromCenter

    assert ContactCenter is EmailStore
    assert FromCenter is EmailStore


# ---------------------------------------------------------------------- seeding


def test_seeded_store_holds_and_indexes_the_emails() -> None:
    queued = Email(id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q", version=1)
    owned = Email(
        id="E2", direction=Direction.INBOUND, phase=Phase.PROCESSING, queue="q", owner="a"
    )
    owned = replace(owned, version=3)
    done = Email(id="E3", direction=Direction.INBOUND, phase=Phase.COMPLETED, queue="q", version=4)
    store = EmailStore([queued, owned, done])
    assert dict(store.emails) == {"E1": queued, "E2": owned, "E3": done}
    assert store.queued("q") == (queued,)
    assert store.owned_by("a") == (owned,)
    assert store.in_phase(Phase.COMPLETED) == (done,)
    assert store.history == ()
    # The seeded email decides like any other: a's Complete on version 3.
    decision = store.execute(Complete(actor="a", email_id="E2")).unwrap()
    assert decision.decided_on == 3
    assert store.emails["E2"].phase is Phase.COMPLETED
    assert store.owned_by("a") == ()


def test_seeding_the_same_id_twice_is_an_error() -> None:
    email = Email(id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q")
    with pytest.raises(ValueError, match="E1 given twice"):
        EmailStore([email, email])


def test_from_events_rebuilds_the_store_and_keeps_the_log() -> None:
    live = EmailStore(record=True)
    _invited(live, "E1")
    _invited(live, "E2")
    live.execute(Reject(actor="a", email_id="E1")).unwrap()  # E1 back to q, after E2
    live.execute(Arrive(email_id="E3", queue="q")).unwrap()
    rebuilt = EmailStore.from_events(live.history, record=True)
    assert dict(rebuilt.emails) == replay(live.history) == dict(live.emails)
    assert rebuilt.history == live.history
    assert _ids(rebuilt.queued("q")) == ["E1", "E3"]
    assert _ids(rebuilt.invited("a")) == ["E2"]
    assert EmailStore.from_events(live.history).history == ()


def test_from_events_refuses_a_log_that_does_not_apply() -> None:
    live = EmailStore(record=True)
    _invited(live, "E1")
    with pytest.raises(ValueError, match="does not apply"):
        EmailStore.from_events(live.history[1:])  # an offer of an email never arrived


# ---------------------------------------------------------------------- execute, request


def test_request_takes_the_actor_positionally_or_by_name() -> None:
    store = EmailStore()
    _invited(store, "E1")
    _invited(store, "E2")
    assert store.request("a", {"operationName": "Accept"}, email_id="E1").accepted
    assert store.request(actor="a", body={"operationName": "Accept"}, email_id="E2").accepted
    assert _ids(store.owned_by("a")) == ["E1", "E2"]


def test_request_passes_the_new_id_factory() -> None:
    store = EmailStore()
    calls: list[str] = []

    def new_id() -> str:
        calls.append("D7")
        return "D7"

    assert store.request("a", {"operationName": "Create"}, new_id=new_id).accepted
    assert calls == ["D7"]
    assert store.emails["D7"].owner == "a"


def test_a_refusal_changes_nothing() -> None:
    store = EmailStore(record=True)
    _invited(store, "E1")
    before = _snapshot(store)
    refused = store.execute(Accept(actor="b", email_id="E1"))
    assert isinstance(refused, Refused)
    assert refused.code is StatusCode.FORBIDDEN
    assert _snapshot(store) == before
    refused = store.request("a", {"operationName": "Complete"}, email_id="E1")
    assert isinstance(refused, Refused)
    assert _snapshot(store) == before
    assert _ids(store.invited("a")) == ["E1"]


def test_strict_store_raises_on_refusal_and_changes_nothing() -> None:
    store = EmailStore(record=True, strict=True)
    _invited(store, "E1")
    before = _snapshot(store)
    with pytest.raises(RefusedError) as raised:
        store.execute(Accept(actor="b", email_id="E1"))
    assert raised.value.refused.code is StatusCode.FORBIDDEN
    assert _snapshot(store) == before
    with pytest.raises(RefusedError) as raised:
        store.request("a", {"operationName": "Accept"}, email_id="E9")
    assert raised.value.refused.code is StatusCode.NOT_FOUND
    assert _snapshot(store) == before
    refused = decide(store.emails, Complete(actor="a", email_id="E1"))
    with pytest.raises(RefusedError):
        store.apply(Complete(actor="a", email_id="E1"), refused)
    assert _snapshot(store) == before
    # Accepted commands still go through a strict store.
    assert store.execute(Accept(actor="a", email_id="E1")).accepted


# ---------------------------------------------------------------------- compare-and-set


def test_apply_stores_the_first_decision_and_refuses_the_stale_one() -> None:
    store = EmailStore(record=True)
    _invited(store, "E1")  # version 2
    accept, reject = Accept(actor="a", email_id="E1"), Reject(actor="a", email_id="E1")
    first, second = decide(store.emails, accept), decide(store.emails, reject)
    assert first.accepted
    assert second.accepted
    assert first.decided_on == second.decided_on == 2
    assert store.apply(accept, first) is True
    after_first = _snapshot(store)
    assert store.emails["E1"].phase is Phase.PROCESSING
    assert store.emails["E1"].version == 3
    assert store.apply(reject, second) is False
    assert _snapshot(store) == after_first
    assert _ids(store.owned_by("a")) == ["E1"]
    # Decided again on the fresh email: Reject is now refused (a is the owner)...
    again = decide(store.emails, reject)
    assert isinstance(again, Refused)
    assert store.apply(reject, again) is True
    assert _snapshot(store) == after_first
    # ...and the next command decided on version 3 goes in.
    comment = AddComment(actor="a", email_id="E1", comment="hello")
    decision = decide(store.emails, comment)
    assert store.apply(comment, decision) is True
    assert store.emails["E1"].comment == "hello"
    assert store.emails["E1"].version == 4


def test_apply_after_a_conflict_and_a_fresh_decision_succeeds() -> None:
    store = EmailStore()
    _processing(store, "E1")
    one = AddComment(actor="a", email_id="E1", comment="one")
    two = AddComment(actor="a", email_id="E1", comment="two")
    d1, d2 = decide(store.emails, one), decide(store.emails, two)
    assert store.apply(one, d1)
    assert not store.apply(two, d2)
    assert store.emails["E1"].comment == "one"
    assert store.apply(two, decide(store.emails, two))
    assert store.emails["E1"].comment == "two"


def test_commit_stores_a_decision_as_it_is_and_keeps_the_indexes() -> None:
    """commit() follows the caller's log: no version check, the indexes and the history
    move as with execute()."""
    store = EmailStore(record=True)
    _invited(store, "E1")
    accept = decide(store.emails, Accept(actor="a", email_id="E1")).unwrap()
    store.commit(accept)
    assert store.emails["E1"].phase is Phase.PROCESSING
    assert _ids(store.owned_by("a")) == ["E1"]
    assert _ids(store.invited("a")) == []
    assert store.history[-len(accept.events) :] == accept.events
    # Given a decision made on an older version, it stores it anyway: the log decided.
    stale = decide(store.emails, AddComment(actor="a", email_id="E1", comment="x")).unwrap()
    store.commit(stale)
    store.commit(stale)
    assert store.emails["E1"] == stale.emails[0]


def test_two_creations_of_one_id_conflict() -> None:
    store = EmailStore(record=True)
    first = Arrive(email_id="E1", queue="q")
    second = Arrive(email_id="E1", queue="other")
    d1, d2 = decide(store.emails, first), decide(store.emails, second)
    assert d1.accepted
    assert d2.accepted
    assert d1.decided_on == d2.decided_on == 0
    assert store.apply(first, d1)
    before = _snapshot(store)
    assert not store.apply(second, d2)
    assert _snapshot(store) == before
    assert store.emails["E1"].queue == "q"
    create = Create(actor="a", email_id="E1")
    assert not store.apply(create, decide({}, create))
    assert _snapshot(store) == before


def test_a_reply_whose_new_id_was_taken_meanwhile_conflicts() -> None:
    store = EmailStore()
    _processing(store, "E1")
    reply = Reply(actor="a", email_id="E1", new_email_id="R1")
    decision = decide(store.emails, reply)
    assert decision.accepted
    assert store.execute(Create(actor="b", email_id="R1")).accepted  # R1 taken meanwhile
    before = _snapshot(store)
    assert not store.apply(reply, decision)
    assert _snapshot(store) == before
    assert store.emails["R1"].owner == "b"


# ---------------------------------------------------------------------- indexes


def test_indexes_follow_an_email_through_its_life() -> None:
    store = EmailStore()
    store.execute(Arrive(email_id="E1", queue="q"))
    store.execute(Arrive(email_id="E2", queue="q"))
    store.execute(Arrive(email_id="E3", queue="r"))
    assert _ids(store.queued("q")) == ["E1", "E2"]
    assert _ids(store.queued("r")) == ["E3"]
    assert _ids(store.in_phase(Phase.QUEUED)) == ["E1", "E2", "E3"]
    store.execute(Offer(email_id="E1", agent="a"))
    assert _ids(store.queued("q")) == ["E2"]
    assert _ids(store.invited("a")) == ["E1"]
    assert _ids(store.held_by("a")) == ["E1"]
    assert store.owned_by("a") == ()
    store.execute(Revoke(email_id="E1"))  # back to q: the newest there
    assert _ids(store.queued("q")) == ["E2", "E1"]
    assert store.held_by("a") == ()
    store.execute(Offer(email_id="E2", agent="a"))
    store.execute(Accept(actor="a", email_id="E2"))
    store.execute(Offer(email_id="E3", agent="a"))
    store.request("a", {"operationName": "Create"}, new_email_id="D1")
    assert _ids(store.owned_by("a")) == ["E2", "D1"]
    assert _ids(store.invited("a")) == ["E3"]
    assert _ids(store.held_by("a")) == ["E2", "D1", "E3"]
    assert _ids(store.in_phase(Phase.COMPOSING)) == ["D1"]
    store.execute(Complete(actor="a", email_id="E2"))
    assert _ids(store.owned_by("a")) == ["D1"]
    assert _ids(store.in_phase(Phase.COMPLETED)) == ["E2"]
    assert store.queued("nowhere") == ()
    assert store.held_by("nobody") == ()


def _same(found: tuple[Email, ...], store: EmailStore, expected: list[Email]) -> None:
    """``found`` holds the live emails of ``expected``, each once (emails do not hash)."""
    assert sorted(_ids(found)) == sorted(e.id for e in expected)
    assert len(set(_ids(found))) == len(found)
    assert all(store.emails[e.id] is e for e in found)


def _scan(store: EmailStore) -> None:
    emails = list(store.emails.values())
    agents = {e.owner for e in emails} | {e.invitee for e in emails} | {"nobody"}
    for agent in agents:
        if agent is None:
            continue
        _same(store.owned_by(agent), store, [e for e in emails if e.owner == agent])
        _same(store.invited(agent), store, [e for e in emails if e.invitee == agent])
        _same(store.held_by(agent), store, [e for e in emails if e.holder == agent])
    for phase in Phase:
        _same(store.in_phase(phase), store, [e for e in emails if e.phase is phase])
    for queue in {e.queue for e in emails} | {"nowhere"}:
        queued = [e for e in emails if e.phase is Phase.QUEUED and e.queue == queue]
        _same(store.queued(queue), store, queued)


def _queued_order(events: tuple[object, ...]) -> dict[str, list[str]]:
    """Per queue, the ids of the Queued emails in the order they entered Queued there,
    from the history alone."""
    emails: dict[str, Email] = {}
    order: dict[str, list[str]] = {}
    for event in events:
        email_id: str = event.email_id  # type: ignore[attr-defined]
        old = emails.get(email_id)
        new = evolve(old, event)  # type: ignore[arg-type]
        emails[email_id] = new
        was = old is not None and old.phase is Phase.QUEUED
        now = new.phase is Phase.QUEUED
        if was and old is not None and (not now or old.queue != new.queue):
            order[old.queue].remove(email_id)
        if now and not (was and old is not None and old.queue == new.queue):
            order.setdefault(new.queue, []).append(email_id)
    return order


class IndexedMachine(EmailLifecycleMachine):
    """Random histories through the store: the indexes always equal a full scan."""

    @invariant()
    def indexes_equal_a_scan(self) -> None:
        assert isinstance(self.center, EmailStore)
        _scan(self.center)

    @invariant()
    def queues_in_the_order_emails_were_queued(self) -> None:
        for queue, ids in _queued_order(self.center.history).items():
            live = [i for i in ids if i in self.center.emails]
            assert _ids(self.center.queued(queue)) == live


class EvictingMachine(IndexedMachine):
    """The same, with terminal emails evicted at random moments."""

    @rule()
    def evict(self) -> None:
        terminal = {k for k, e in self.center.emails.items() if e.phase in TERMINAL_PHASES}
        assert self.center.evict_terminal() == len(terminal)
        assert not terminal & set(self.center.emails)

    # Replaces the machine's invariants of the same names: evicted emails are gone.
    def history_replays_to_live_emails(self) -> None:
        rebuilt = replay(self.center.history)
        for email_id, email in self.center.emails.items():
            assert rebuilt[email_id] == email
        assert all(rebuilt[k].is_terminal for k in rebuilt.keys() - self.center.emails.keys())

    def terminal_emails_never_change(self) -> None:
        for email_id, email in self._terminal.items():
            if email_id in self.center.emails:
                assert self.center.emails[email_id] is email


_SETTINGS = settings(
    max_examples=60,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestIndexes = IndexedMachine.TestCase
TestIndexes.settings = _SETTINGS
TestIndexesWithEviction = EvictingMachine.TestCase
TestIndexesWithEviction.settings = _SETTINGS


# ---------------------------------------------------------------------- eviction


def _lifecycle(store: EmailStore, email_id: str, at: float) -> None:
    store.execute(Arrive(email_id=email_id, queue="q"), at=at).unwrap()
    store.execute(Offer(email_id=email_id, agent="a"), at=at).unwrap()
    store.execute(Accept(actor="a", email_id=email_id), at=at).unwrap()
    store.execute(Complete(actor="a", email_id=email_id), at=at).unwrap()


def test_evict_all_terminal_emails() -> None:
    store = EmailStore(record=True)
    _lifecycle(store, "E1", 1.0)
    _processing(store, "E2")
    store.request("a", {"operationName": "Create"}, new_email_id="D1")
    store.request("a", {"operationName": "Cancel"}, email_id="D1")  # no time
    history = store.history
    assert store.evict_terminal() == 2
    assert set(store.emails) == {"E2"}
    assert store.in_phase(Phase.COMPLETED) == ()
    assert store.in_phase(Phase.CANCELED) == ()
    assert _ids(store.owned_by("a")) == ["E2"]
    assert store.history == history  # the log keeps them
    assert store.evict_terminal() == 0


def test_evict_before_a_time() -> None:
    store = EmailStore()
    _lifecycle(store, "E1", 1.0)
    _lifecycle(store, "E2", 5.0)
    _lifecycle(store, "E3", 3.0)  # times need not grow
    seeded = Email(id="S1", direction=Direction.INBOUND, phase=Phase.SENT, queue="q")
    untimed = EmailStore([seeded])
    assert untimed.evict_terminal(before=1e9) == 0  # no time: only before=None
    assert untimed.evict_terminal() == 1
    assert store.evict_terminal(before=0.5) == 0
    assert store.evict_terminal(before=3.0) == 2
    assert set(store.emails) == {"E2"}
    assert _ids(store.in_phase(Phase.COMPLETED)) == ["E2"]
    assert store.evict_terminal(before=3.0) == 0
    assert store.evict_terminal(before=5.0) == 1
    assert dict(store.emails) == {}


def test_the_time_is_when_the_email_became_terminal() -> None:
    store = EmailStore()
    store.execute(Arrive(email_id="E1", queue="q"), at=1.0)
    store.execute(Offer(email_id="E1", agent="a"), at=2.0)
    store.execute(Accept(actor="a", email_id="E1"), at=3.0)
    store.execute(Complete(actor="a", email_id="E1"), at=10.0)
    assert store.evict_terminal(before=9.0) == 0
    assert store.evict_terminal(before=10.0) == 1


def test_an_evicted_id_can_be_used_again() -> None:
    store = EmailStore()
    _lifecycle(store, "E1", 1.0)
    assert store.evict_terminal(before=1.0) == 1
    _lifecycle(store, "E1", 7.0)
    assert store.evict_terminal(before=5.0) == 0
    assert store.emails["E1"].phase is Phase.COMPLETED
    assert store.evict_terminal(before=7.0) == 1


def test_evict_after_evicts_on_each_call_with_a_time() -> None:
    store = EmailStore(evict_after=10.0)
    _lifecycle(store, "E1", 0.0)
    _lifecycle(store, "E2", 5.0)
    store.execute(Arrive(email_id="E3", queue="q"))  # no time: no eviction
    assert set(store.emails) == {"E1", "E2", "E3"}
    store.execute(Arrive(email_id="E4", queue="q"), at=12.0)  # evicts up to 2.0
    assert set(store.emails) == {"E2", "E3", "E4"}
    store.request("a", {"operationName": "Create"}, new_email_id="D1", at=15.0)
    assert set(store.emails) == {"E3", "E4", "D1"}
    assert _ids(store.queued("q")) == ["E3", "E4"]
    store.request("a", {"operationName": "Cancel"}, email_id="D1", at=16.0)
    comment = AddComment(actor="a", email_id="E3", comment="x")
    store.apply(comment, decide(store.emails, comment), at=26.0)  # refused, still evicts
    assert set(store.emails) == {"E3", "E4"}


def test_a_canceled_draft_leaves_its_owner() -> None:
    store = EmailStore()
    store.execute(Create(actor="a", email_id="D1"), at=1.0)
    assert _ids(store.owned_by("a")) == ["D1"]
    store.execute(Cancel(actor="a", email_id="D1"), at=2.0)
    assert store.owned_by("a") == ()
    assert store.evict_terminal(before=2.0) == 1
    assert store.in_phase(Phase.CANCELED) == ()


def test_seeded_emails_may_carry_any_version() -> None:
    email = Email(id="E1", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q")
    store = EmailStore([replace(email, version=41)])
    offer = Offer(email_id="E1", agent="a")
    decision = decide(store.emails, offer)
    assert decision.unwrap().decided_on == 41
    assert store.apply(offer, decision)
    assert store.emails["E1"].version == 42


@pytest.mark.parametrize("phase", sorted(TERMINAL_PHASES))
def test_every_terminal_phase_is_evicted(phase: Phase) -> None:
    email = Email(id="E1", direction=Direction.INBOUND, phase=phase, queue="q")
    live = Email(id="E2", direction=Direction.INBOUND, phase=Phase.QUEUED, queue="q")
    store = EmailStore([email, live])
    assert store.evict_terminal() == 1
    assert set(store.emails) == {"E2"}


def test_no_eviction_without_a_terminal_email() -> None:
    store = EmailStore(evict_after=0.0)
    _processing(store, "E1")
    assert store.evict_terminal() == 0
    assert store.evict_terminal(before=1e9) == 0
    assert set(store.emails) == {"E1"}
