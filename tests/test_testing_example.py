# [start:strategies]
from hypothesis import given
from hypothesis import strategies as st

from email_fsm import Phase, handle_request
from email_fsm.testing import SETTINGS, Reached, reachable, request_bodies


@SETTINGS
@given(reachable(phases={Phase.PROCESSING, Phase.COMPOSING}), st.data())
def test_the_owner_may_do_what_is_allowed(reached: Reached, data: st.DataObject) -> None:
    email = reached.email
    assert email.owner is not None
    body = data.draw(request_bodies(email, email.owner))
    decision = handle_request(
        reached.emails, body, actor=email.owner, email_id=email.id, new_email_id="NEW"
    )
    assert decision.accepted, decision


# [end:strategies]
