"""The worked examples of ``docs/testing.md``: business rules, their policies, their proofs.

They live in the package so that the documentation's examples run wherever
``email-fsm[testing]`` is installed. The regions between ``# [start:NAME]`` and
``# [end:NAME]`` are copied verbatim into the documentation, and a test checks that the
copies stay identical.

- A user's rule: an email whose userData says ``"Priority": "high"`` may not be
  completed without a disposition (:func:`high_priority_needs_disposition`, proved by
  :class:`PriorityMachine`, drawing from the :data:`PRIORITY` vocabulary).
- VIP emails only move to the ``vip`` queue (:func:`vip_stays_with_vip`, proved by
  :class:`VipMachine` and :func:`check_vip_one_step`); :func:`first_draft` is the rule as
  first written, which forgets Complete's ``queueName``.
"""

from __future__ import annotations

# [start:priority]
from hypothesis import strategies as st
from hypothesis.stateful import invariant

from email_fsm import DEFAULT_CONFIG, Command, Complete, Email, Refused, StatusCode
from email_fsm.testing import EmailLifecycleMachine, Vocabulary

PRIORITY = Vocabulary(user_data={"Priority": st.sampled_from(["high", "normal", "low"])})


def is_high_priority(email: Email) -> bool:
    return email.user_data.get("Priority") == "high"


def has_disposition(email: Email) -> bool:
    return DEFAULT_CONFIG.disposition_key in email.user_data


def high_priority_needs_disposition(command: Command, email: Email | None) -> Refused | None:
    """Refuse completing a high-priority email that has no disposition yet."""
    if not isinstance(command, Complete) or email is None:
        return None
    if is_high_priority(email) and not has_disposition(email):
        return Refused(StatusCode.INVALID_STATE, "a high-priority email needs a disposition")
    return None


class PriorityMachine(EmailLifecycleMachine):
    policies = (high_priority_needs_disposition,)
    vocabulary = PRIORITY

    @invariant()
    def completes_need_a_disposition_only_when_high(self) -> None:
        step = self.last_step
        if step is None or not isinstance(step.command, Complete) or step.email is None:
            return
        needs_one = is_high_priority(step.email) and not has_disposition(step.email)
        if step.accepted:
            assert not needs_one, f"{step.email.id} was completed without a disposition"
        if step.refused_by is not None:
            assert needs_one, f"{step.email.id} was refused: {step.decision}"


# [end:priority]

# [start:vip_policy]
from email_fsm import Transfer  # noqa: E402 (a region of its own in the documentation)

VIP_QUEUE = "vip"


def is_vip(email: Email) -> bool:
    return email.user_data.get("VIP") is True


def vip_stays_with_vip(command: Command, email: Email | None) -> Refused | None:
    """Refuse moving a VIP email anywhere but the vip queue."""
    if email is None or not is_vip(email):
        return None
    if isinstance(command, Transfer) and command.queue != VIP_QUEUE:
        target = command.agent or command.queue
        return Refused(StatusCode.FORBIDDEN, f"VIP email {email.id} cannot go to {target}")
    if isinstance(command, Complete) and command.queue not in (None, VIP_QUEUE):
        return Refused(StatusCode.FORBIDDEN, f"VIP email {email.id} cannot go to {command.queue}")
    return None


# [end:vip_policy]


# [start:vip_draft]
def first_draft(command: Command, email: Email | None) -> Refused | None:
    """The rule as first written: it checks Transfer only."""
    vip = email is not None and is_vip(email)
    if vip and isinstance(command, Transfer) and command.queue != VIP_QUEUE:
        return Refused(StatusCode.FORBIDDEN, f"VIP email {command.email_id} must stay with VIP")
    return None


# [end:vip_draft]

# [start:vip_machine]
from email_fsm import Accepted  # noqa: E402
from email_fsm.events import (  # noqa: E402
    EmailCompleted,
    TransferredToAgent,
    TransferredToQueue,
)

VIPS = Vocabulary(user_data={"VIP": st.booleans()})


class VipMachine(EmailLifecycleMachine):
    policies = (vip_stays_with_vip,)
    vocabulary = VIPS

    @invariant()
    def vip_emails_only_move_to_the_vip_queue(self) -> None:
        step = self.last_step
        if step is None or not isinstance(step.decision, Accepted):
            return
        for event in step.decision.events:
            moved = (TransferredToAgent, TransferredToQueue, EmailCompleted)
            if isinstance(event, moved) and is_vip(step.before[event.email_id]):
                assert not isinstance(event, TransferredToAgent), event
                assert event.queue in (None, VIP_QUEUE), event


# [end:vip_machine]

# [start:vip_one_step]
from hypothesis import given  # noqa: E402

from email_fsm import Phase, Policy, handle_request  # noqa: E402
from email_fsm.testing import SETTINGS, Reached, reachable, request_bodies  # noqa: E402

MOSTLY_VIP = Vocabulary(user_data={"VIP": st.just(True)})
VIP_IN_PROCESSING = reachable(phases={Phase.PROCESSING}, vocabulary=MOSTLY_VIP).filter(
    lambda reached: is_vip(reached.email)
)


def stays_with_vip(policy: Policy, reached: Reached, data: st.DataObject) -> None:
    """If the owner's request is accepted, the email is still with its owner, done, or
    in the vip queue."""
    email = reached.email
    assert email.owner is not None
    body = data.draw(request_bodies(email, email.owner, vocabulary=MOSTLY_VIP))
    decision = handle_request(
        reached.emails,
        body,
        actor=email.owner,
        email_id=email.id,
        new_email_id="NEW",
        policies=(policy,),
    )
    if isinstance(decision, Accepted):
        after = {e.id: e for e in decision.emails}.get(email.id, email)
        assert after.phase in (Phase.PROCESSING, Phase.COMPLETED) or (
            after.phase is Phase.QUEUED and after.queue == VIP_QUEUE
        ), (body, after.phase, after.queue)


@SETTINGS
@given(VIP_IN_PROCESSING, st.data())
def check_vip_one_step(reached: Reached, data: st.DataObject) -> None:
    stays_with_vip(vip_stays_with_vip, reached, data)


# [end:vip_one_step]
