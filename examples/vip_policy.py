"""The worked example of ``docs/testing.md``: a business rule, its policy, its proof.

The rule: an email whose userData says ``"VIP": true`` may only be moved to the ``vip``
queue, by a Transfer or by a Complete that sends it on for more processing. A transfer
to an agent would move it out of the VIP team's sight, so it is refused too.

The property test that proves it is ``tests/test_example_vip.py``. The region between
``# [start:policy]`` and ``# [end:policy]`` is copied verbatim into the documentation,
and a test checks that the copy stays identical.
"""

from __future__ import annotations

# [start:policy]
from email_fsm import Command, Complete, Email, Refused, StatusCode, Transfer

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


# [end:policy]


# [start:draft]
def first_draft(command: Command, email: Email | None) -> Refused | None:
    """The rule as first written: it checks Transfer only."""
    vip = email is not None and is_vip(email)
    if vip and isinstance(command, Transfer) and command.queue != VIP_QUEUE:
        return Refused(StatusCode.FORBIDDEN, f"VIP email {command.email_id} must stay with VIP")
    return None


# [end:draft]
