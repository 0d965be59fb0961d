"""Correct use of the typed API: mypy --strict accepts all of it."""

from email_fsm import (
    Accept,
    Arrive,
    Command,
    ContactCenter,
    Email,
    Refused,
    StatusCode,
    Transfer,
    decide,
)


def vip_only(command: Command, email: Email | None) -> Refused | None:
    if isinstance(command, Transfer) and command.queue != "vip":
        return Refused(StatusCode.FORBIDDEN, "VIP emails go to the vip queue")
    return None


center = ContactCenter(policies=[vip_only])
center.execute(Arrive(email_id="E1", queue="inbound", user_data={"VIP": True}))
decision = decide(center.emails, Accept(actor="alice", email_id="E1", reference_id=7))
status = decision.response()["statusCode"]

# `accepted` narrows the decision: Accepted in the true branch, Refused in the other.
if decision.accepted:
    owners = [email.owner for email in decision.emails]
else:
    code: StatusCode = decision.code

# unwrap() is Accepted, or raises RefusedError.
unwrapped = decide(center.emails, Accept(actor="alice", email_id="E1")).unwrap()
first_event = unwrapped.events[0]
