"""unwrap(): the accepted decision itself, or a typed error naming the refusal."""

from __future__ import annotations

import pytest

from email_fsm import Accept, Arrive, Offer, Refused, RefusedError, StatusCode, decide


def test_unwrap_gives_the_accepted_decision_itself() -> None:
    decision = decide({}, Arrive(email_id="E1", queue="q"))
    assert decision.unwrap() is decision


def test_unwrap_raises_the_refusal_typed() -> None:
    emails = {e.id: e for e in decide({}, Arrive(email_id="E1", queue="q")).unwrap().emails}
    emails.update(
        (e.id, e) for e in decide(emails, Offer(email_id="E1", agent="a")).unwrap().emails
    )
    refused = decide(emails, Accept(actor="b", email_id="E1"))
    assert isinstance(refused, Refused)
    with pytest.raises(RefusedError) as raised:
        refused.unwrap()
    assert raised.value.refused is refused
    assert raised.value.refused.code is StatusCode.FORBIDDEN
    assert str(raised.value) == f"3: {refused.message}"
