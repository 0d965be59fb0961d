"""Every refusal path (docs/spec.md, Refusals): the status code, a message naming the
operation, the email and its state, and nothing changed — the email, the bystander
email, no notification."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from builders import (
    accepted,
    arrive,
    assert_refused,
    center,
    completed,
    composing,
    invited,
    processing,
    sent,
)

from email_fsm import (
    Accept,
    AddAttachment,
    AddComment,
    AgentCommand,
    Arrive,
    AttachUserData,
    Cancel,
    Command,
    Complete,
    Config,
    ContactCenter,
    Create,
    DeleteUserData,
    Email,
    EmailFields,
    Limits,
    Offer,
    Operation,
    Phase,
    Refused,
    Reject,
    RemoveAttachment,
    Reply,
    ReplyAll,
    Revoke,
    Save,
    Send,
    SetDisposition,
    SetInFocus,
    StatusCode,
    Transfer,
    UpdateUserData,
    decide,
)

# A valid command for each operation on email ``eid`` by ``actor`` (Create: a new id).
FACTORIES: dict[Operation, Callable[[str, str], AgentCommand]] = {
    Operation.ACCEPT: lambda e, a: Accept(actor=a, email_id=e),
    Operation.REJECT: lambda e, a: Reject(actor=a, email_id=e),
    Operation.TRANSFER: lambda e, a: Transfer(actor=a, email_id=e, queue="q2"),
    Operation.COMPLETE: lambda e, a: Complete(actor=a, email_id=e),
    Operation.REPLY: lambda e, a: Reply(actor=a, email_id=e, new_email_id="NEW"),
    Operation.REPLY_ALL: lambda e, a: ReplyAll(actor=a, email_id=e, new_email_id="NEW"),
    Operation.SAVE: lambda e, a: Save(actor=a, email_id=e, fields=EmailFields(subject="s")),
    Operation.SEND: lambda e, a: Send(
        actor=a, email_id=e, queue="out", fields=EmailFields(to=("t@x",))
    ),
    Operation.CANCEL: lambda e, a: Cancel(actor=a, email_id=e),
    Operation.ADD_ATTACHMENT: lambda e, a: AddAttachment(actor=a, email_id=e, document_id="d"),
    Operation.REMOVE_ATTACHMENT: lambda e, a: RemoveAttachment(
        actor=a, email_id=e, document_id="d"
    ),
    Operation.ATTACH_USER_DATA: lambda e, a: AttachUserData(
        actor=a, email_id=e, user_data={"k": 1}
    ),
    Operation.UPDATE_USER_DATA: lambda e, a: UpdateUserData(
        actor=a, email_id=e, user_data={"k": 1}
    ),
    Operation.DELETE_USER_DATA: lambda e, a: DeleteUserData(actor=a, email_id=e, keys=("k",)),
    Operation.SET_DISPOSITION: lambda e, a: SetDisposition(actor=a, email_id=e, disposition="x"),
    Operation.ADD_COMMENT: lambda e, a: AddComment(actor=a, email_id=e, comment="c"),
    Operation.SET_IN_FOCUS: lambda e, a: SetInFocus(actor=a, email_id=e),
}
EXISTING = [op for op in Operation if op is not Operation.CREATE]

# docs/spec.md, Operations, "allowed": what the holder may do in each phase.
SPEC_ALLOWED: dict[Phase, set[Operation]] = {
    Phase.INVITED: {Operation.ACCEPT, Operation.REJECT},
    Phase.PROCESSING: {
        Operation.TRANSFER,
        Operation.COMPLETE,
        Operation.REPLY,
        Operation.REPLY_ALL,
        Operation.ATTACH_USER_DATA,
        Operation.UPDATE_USER_DATA,
        Operation.DELETE_USER_DATA,
        Operation.SET_DISPOSITION,
        Operation.ADD_COMMENT,
        Operation.SET_IN_FOCUS,
    },
    Phase.COMPOSING: {
        Operation.TRANSFER,
        Operation.SAVE,
        Operation.SEND,
        Operation.CANCEL,
        Operation.ADD_ATTACHMENT,
        Operation.REMOVE_ATTACHMENT,
        Operation.ATTACH_USER_DATA,
        Operation.UPDATE_USER_DATA,
        Operation.DELETE_USER_DATA,
        Operation.SET_DISPOSITION,
        Operation.ADD_COMMENT,
        Operation.SET_IN_FOCUS,
    },
}


def _in_phase(c: ContactCenter, phase: Phase) -> Email:
    """An email in ``phase``; its holder (if any) is agent "a"."""
    builders: dict[Phase, Callable[[], Email]] = {
        Phase.QUEUED: lambda: arrive(c, "P"),
        Phase.INVITED: lambda: invited(c, "P"),
        Phase.PROCESSING: lambda: processing(c, "P"),
        Phase.COMPOSING: lambda: composing(c, "P"),
        Phase.COMPLETED: lambda: completed(c, "P"),
        Phase.SENT: lambda: sent(c, "P"),
        Phase.CANCELED: lambda: _canceled(c),
    }
    email = builders[phase]()
    assert email.phase is phase
    return email


def _canceled(c: ContactCenter) -> Email:
    composing(c, "P")
    accepted(c.execute(Cancel(actor="a", email_id="P")))
    return c.emails["P"]


# ----------------------------------------------------------------- 6: not found


@pytest.mark.parametrize("operation", EXISTING)
def test_unknown_email_is_6(operation: Operation) -> None:
    c = center()
    refused = assert_refused(c, FACTORIES[operation]("NOPE", "a"), StatusCode.NOT_FOUND)
    assert str(operation) in refused.message
    assert "NOPE" in refused.message


@pytest.mark.parametrize(
    "command", [Offer(email_id="NOPE", agent="a"), Revoke(email_id="NOPE")], ids=str
)
def test_system_event_on_unknown_email_is_6(command: Command) -> None:
    assert_refused(center(), command, StatusCode.NOT_FOUND)


# ----------------------------------------------------------------- 18: already exists


def test_arrive_with_a_taken_id_is_18() -> None:
    c = center()
    refused = assert_refused(c, Arrive(email_id="X", queue="q"), StatusCode.ALREADY_EXISTS)
    assert "Arrive" in refused.message
    assert "X" in refused.message


def test_create_with_a_taken_id_is_18() -> None:
    assert_refused(center(), Create(actor="a", email_id="X"), StatusCode.ALREADY_EXISTS)


@pytest.mark.parametrize("operation", [Operation.REPLY, Operation.REPLY_ALL])
def test_reply_with_a_taken_new_id_is_18(operation: Operation) -> None:
    c = center()
    processing(c, "NEW")
    processing(c, "E1")
    assert_refused(c, FACTORIES[operation]("E1", "a"), StatusCode.ALREADY_EXISTS)


def test_attachment_already_attached_is_18() -> None:
    c = center()
    composing(c)
    accepted(c.execute(AddAttachment(actor="a", email_id="D1", document_id="d")))
    refused = assert_refused(
        c, AddAttachment(actor="a", email_id="D1", document_id="d"), StatusCode.ALREADY_EXISTS
    )
    assert "AddAttachment refused for email D1 (Composing)" in refused.message


# ----------------------------------------------------------------- 3: not the holder


@pytest.mark.parametrize("operation", EXISTING)
def test_an_agent_who_does_not_hold_the_email_is_3(operation: Operation) -> None:
    phase = next(p for p, ops in SPEC_ALLOWED.items() if operation in ops)
    c = center()
    email = _in_phase(c, phase)
    refused = assert_refused(c, FACTORIES[operation](email.id, "b"), StatusCode.FORBIDDEN)
    assert f"{operation} refused for email P ({phase})" in refused.message
    assert "b is not its holder" in refused.message


@pytest.mark.parametrize(
    "phase", [Phase.QUEUED, Phase.COMPLETED, Phase.SENT, Phase.CANCELED], ids=str
)
@pytest.mark.parametrize("operation", EXISTING)
def test_nobody_may_change_a_queued_or_terminal_email(operation: Operation, phase: Phase) -> None:
    c = center()
    email = _in_phase(c, phase)
    for agent in ("a", "b", "z"):
        assert_refused(c, FACTORIES[operation](email.id, agent), StatusCode.FORBIDDEN)


# ----------------------------------------------------------------- 2: wrong phase


HOLDER_PHASES = [Phase.INVITED, Phase.PROCESSING, Phase.COMPOSING]
FORBIDDEN_PAIRS = [
    (op, phase) for phase in HOLDER_PHASES for op in EXISTING if op not in SPEC_ALLOWED[phase]
]
ALLOWED_PAIRS = [
    (op, phase) for phase in HOLDER_PHASES for op in EXISTING if op in SPEC_ALLOWED[phase]
]


@pytest.mark.parametrize(("operation", "phase"), FORBIDDEN_PAIRS, ids=str)
def test_the_holder_asking_for_what_the_phase_forbids_is_2(
    operation: Operation, phase: Phase
) -> None:
    c = center()
    email = _in_phase(c, phase)
    refused = assert_refused(c, FACTORIES[operation](email.id, "a"), StatusCode.INVALID_STATE)
    assert refused.message == f"{operation} is not valid for email P in state {phase}"


@pytest.mark.parametrize(("operation", "phase"), ALLOWED_PAIRS, ids=str)
def test_the_holder_may_do_what_the_spec_allows(operation: Operation, phase: Phase) -> None:
    c = center()
    email = _in_phase(c, phase)
    if operation is Operation.REMOVE_ATTACHMENT:
        accepted(c.execute(AddAttachment(actor="a", email_id=email.id, document_id="d")))
    decision = accepted(c.execute(FACTORIES[operation](email.id, "a")))
    assert decision.response() == {"statusCode": 0}
    assert decision.events


def test_offer_on_a_non_queued_email_is_2() -> None:
    c = center()
    invited(c)
    refused = assert_refused(c, Offer(email_id="E1", agent="b"), StatusCode.INVALID_STATE)
    assert refused.message == "Offer is not valid for email E1 in state Invited"
    assert_refused(c, Offer(email_id="X", agent="b"), StatusCode.INVALID_STATE)


def test_revoke_on_a_non_invited_email_is_2() -> None:
    c = center()
    arrive(c)
    assert_refused(c, Revoke(email_id="E1"), StatusCode.INVALID_STATE)
    assert_refused(c, Revoke(email_id="X"), StatusCode.INVALID_STATE)


# ----------------------------------------------------------------- shape: 1 and 10


MISSING: list[tuple[str, Callable[[], Command]]] = [
    ("transfer target", lambda: Transfer(actor="a", email_id="E1")),
    ("reply new id", lambda: Reply(actor="a", email_id="E1", new_email_id="")),
    ("save nothing", lambda: Save(actor="a", email_id="D1", fields=EmailFields())),
    ("send queue", lambda: Send(actor="a", email_id="D1", queue="")),
    ("document id", lambda: AddAttachment(actor="a", email_id="D1", document_id="")),
    ("remove id", lambda: RemoveAttachment(actor="a", email_id="D1", document_id="")),
    ("attach empty", lambda: AttachUserData(actor="a", email_id="E1", user_data={})),
    ("update empty", lambda: UpdateUserData(actor="a", email_id="E1", user_data={})),
    ("delete none", lambda: DeleteUserData(actor="a", email_id="E1", keys=())),
    ("disposition", lambda: SetDisposition(actor="a", email_id="E1", disposition="")),
    ("comment", lambda: AddComment(actor="a", email_id="E1", comment="")),
    ("actor", lambda: Accept(actor="", email_id="E1")),
    ("arrive queue", lambda: Arrive(email_id="N", queue="")),
    ("arrive id", lambda: Arrive(email_id="", queue="q")),
    ("offer agent", lambda: Offer(email_id="Q", agent="")),
]


@pytest.mark.parametrize(("name", "make"), MISSING, ids=[m[0] for m in MISSING])
def test_missing_or_empty_required_values_are_1(name: str, make: Callable[[], Command]) -> None:
    c = center()
    processing(c, "E1")
    composing(c, "D1")
    arrive(c, "Q")
    assert_refused(c, make(), StatusCode.MISSING_PARAMETER)


EMPTY_ACTOR: list[AgentCommand] = [
    *(FACTORIES[operation]("E1", "") for operation in EXISTING),
    Create(actor="", email_id="NEW"),
]


@pytest.mark.parametrize("command", EMPTY_ACTOR, ids=lambda command: type(command).__name__)
def test_an_empty_actor_is_a_missing_parameter_for_every_operation(command: Command) -> None:
    c = center()
    processing(c, "E1")
    refused = assert_refused(c, command, StatusCode.MISSING_PARAMETER)
    assert refused.message.endswith("agent is required"), refused.message


BIG = "x" * (64 * 1024 + 1)
INVALID: list[tuple[str, Callable[[], Command]]] = [
    ("transfer both", lambda: Transfer(actor="a", email_id="E1", agent="b", queue="q")),
    ("complete empty queue", lambda: Complete(actor="a", email_id="E1", queue="")),
    ("create empty queue", lambda: Create(actor="a", email_id="N", queue="")),
    ("negative size", lambda: AddAttachment(actor="a", email_id="D1", document_id="d", size=-1)),
    ("empty key", lambda: AttachUserData(actor="a", email_id="E1", user_data={"": 1})),
    ("long key", lambda: AttachUserData(actor="a", email_id="E1", user_data={"k" * 257: 1})),
    ("long value", lambda: UpdateUserData(actor="a", email_id="E1", user_data={"k": BIG})),
    (
        "nested long",
        lambda: UpdateUserData(actor="a", email_id="E1", user_data={"k": [{"x": BIG}]}),
    ),
    (
        "too many keys",
        lambda: AttachUserData(
            actor="a", email_id="E1", user_data={str(i): i for i in range(1001)}
        ),
    ),
    ("infinity", lambda: AttachUserData(actor="a", email_id="E1", user_data={"k": float("inf")})),
    (
        "nested nan",
        lambda: UpdateUserData(actor="a", email_id="E1", user_data={"k": [float("nan")]}),
    ),
    ("long delete key", lambda: DeleteUserData(actor="a", email_id="E1", keys=("k" * 257,))),
    ("long disposition", lambda: SetDisposition(actor="a", email_id="E1", disposition=BIG)),
    ("empty disp key", lambda: SetDisposition(actor="a", email_id="E1", disposition="x", key="")),
    ("long comment", lambda: AddComment(actor="a", email_id="E1", comment=BIG)),
    (
        "multibyte comment",
        lambda: AddComment(actor="a", email_id="E1", comment="é" * (32 * 1024 + 1)),
    ),
    (
        "reply userData",
        lambda: Reply(actor="a", email_id="E1", new_email_id="N", user_data={"": 1}),
    ),
    ("arrive userData", lambda: Arrive(email_id="N", queue="q", user_data={"k" * 300: 1})),
]


@pytest.mark.parametrize(("name", "make"), INVALID, ids=[m[0] for m in INVALID])
def test_invalid_values_and_values_over_limits_are_10(
    name: str, make: Callable[[], Command]
) -> None:
    c = center()
    processing(c, "E1")
    composing(c, "D1")
    assert_refused(c, make(), StatusCode.INVALID_VALUE)


def test_an_invalid_value_says_what_is_invalid() -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, Transfer(actor="a", email_id="E1", agent="b", queue="q"), StatusCode.INVALID_VALUE
    )
    assert refused.message.endswith("give userUri or queueName, not both")


@pytest.mark.parametrize(
    ("command", "reason"),
    [
        (Transfer(actor="a", email_id="E1", agent=""), "userUri must not be empty"),
        (Transfer(actor="a", email_id="E1", queue=""), "queueName must not be empty"),
        (Complete(actor="a", email_id="E1", queue=""), "queueName must not be empty"),
    ],
    ids=["transfer to no agent", "transfer to no queue", "complete to no queue"],
)
def test_empty_targets_are_invalid_values(command: Command, reason: str) -> None:
    c = center()
    processing(c)
    refused = assert_refused(c, command, StatusCode.INVALID_VALUE)
    assert refused.message.endswith(reason), refused.message


def test_values_at_the_limits_are_accepted() -> None:
    c = center()
    processing(c, "E1")
    at_limit = "é" * (32 * 1024)  # exactly 64 KiB of UTF-8
    accepted(c.execute(AddComment(actor="a", email_id="E1", comment=at_limit)))
    accepted(
        c.execute(AttachUserData(actor="a", email_id="E1", user_data={"k" * 256: "v" * 65536}))
    )


def test_an_empty_attachment_is_allowed_a_negative_size_is_not() -> None:
    c = center()
    composing(c)
    accepted(c.execute(AddAttachment(actor="a", email_id="D1", document_id="d0", size=0)))
    refused = assert_refused(
        c,
        AddAttachment(actor="a", email_id="D1", document_id="d1", size=-1),
        StatusCode.INVALID_VALUE,
    )
    assert refused.message.endswith("size must not be negative")


def test_limits_are_configurable() -> None:
    config = Config(limits=Limits(max_comment_bytes=3, max_user_data_keys=2, max_attachments=1))
    c = center(config=config)
    processing(c, "E1")
    assert_refused(
        c, AddComment(actor="a", email_id="E1", comment="four"), StatusCode.INVALID_VALUE
    )
    accepted(c.execute(AddComment(actor="a", email_id="E1", comment="abc")))
    # The merged userData is checked too (an operation-specific rule).
    accepted(c.execute(AttachUserData(actor="a", email_id="E1", user_data={"a": 1, "b": 2})))
    assert_refused(
        c, AttachUserData(actor="a", email_id="E1", user_data={"c": 3}), StatusCode.INVALID_VALUE
    )
    assert_refused(
        c, SetDisposition(actor="a", email_id="E1", disposition="x"), StatusCode.INVALID_VALUE
    )
    accepted(c.execute(UpdateUserData(actor="a", email_id="E1", user_data={"a": 5})))
    # A reply starts with ContactId: with two more keys it would have three.
    assert_refused(
        c,
        Reply(actor="a", email_id="E1", new_email_id="R", user_data={"x": 1, "y": 2}),
        StatusCode.INVALID_VALUE,
    )
    composing(c, "D1")
    accepted(c.execute(AddAttachment(actor="a", email_id="D1", document_id="one")))
    refused = assert_refused(
        c, AddAttachment(actor="a", email_id="D1", document_id="two"), StatusCode.INVALID_VALUE
    )
    assert "1 attachments" in refused.message


# ----------------------------------------------------------------- operation rules


def test_transfer_to_oneself_is_10() -> None:
    c = center()
    processing(c)
    refused = assert_refused(
        c, Transfer(actor="a", email_id="E1", agent="a"), StatusCode.INVALID_VALUE
    )
    assert refused.message.startswith("Transfer refused for email E1 (Processing)")


def test_refusals_give_their_reason() -> None:
    c = center()
    processing(c)
    composing(c)
    accepted(c.execute(AddAttachment(actor="a", email_id="D1", document_id="d1")))
    reasons: list[tuple[Command, StatusCode, str]] = [
        (
            Transfer(actor="a", email_id="E1", agent="a"),
            StatusCode.INVALID_VALUE,
            "a cannot transfer an email to themselves",
        ),
        (
            DeleteUserData(actor="a", email_id="E1", keys=()),
            StatusCode.MISSING_PARAMETER,
            "keys is required",
        ),
        (
            AddAttachment(actor="a", email_id="D1", document_id="d1"),
            StatusCode.ALREADY_EXISTS,
            "attachment d1 is already attached",
        ),
        (
            RemoveAttachment(actor="a", email_id="D1", document_id="d2"),
            StatusCode.NOT_FOUND,
            "attachment d2 is not attached",
        ),
    ]
    for command, code, reason in reasons:
        refused = assert_refused(c, command, code)
        assert refused.message.endswith(reason), refused.message


def test_removing_an_unknown_attachment_is_6() -> None:
    c = center()
    composing(c)
    assert_refused(
        c, RemoveAttachment(actor="a", email_id="D1", document_id="zz"), StatusCode.NOT_FOUND
    )


def test_send_without_recipient_is_1() -> None:
    c = center()
    composing(c)
    refused = assert_refused(
        c, Send(actor="a", email_id="D1", queue="out"), StatusCode.MISSING_PARAMETER
    )
    assert "recipient" in refused.message
    assert_refused(
        c,
        Send(actor="a", email_id="D1", queue="out", fields=EmailFields(to=())),
        StatusCode.MISSING_PARAMETER,
    )


# ----------------------------------------------------------------- check order


def test_order_not_found_before_shape() -> None:
    assert_refused(center(), Transfer(actor="a", email_id="NOPE"), StatusCode.NOT_FOUND)


def test_order_new_id_before_shape() -> None:
    c = center()
    processing(c)
    assert_refused(
        c,
        Reply(actor="a", email_id="E1", new_email_id="X", user_data={"": 1}),
        StatusCode.ALREADY_EXISTS,
    )


def test_order_shape_before_holder() -> None:
    c = center()
    processing(c)
    assert_refused(c, Transfer(actor="b", email_id="E1"), StatusCode.MISSING_PARAMETER)
    assert_refused(
        c, Transfer(actor="b", email_id="E1", agent="x", queue="y"), StatusCode.INVALID_VALUE
    )


def test_order_holder_before_phase() -> None:
    c = center()
    processing(c)
    assert_refused(c, Accept(actor="b", email_id="E1"), StatusCode.FORBIDDEN)


def test_order_phase_before_rules() -> None:
    c = center()
    invited(c)
    # Transfer to oneself would be 10, but Invited does not allow Transfer at all.
    assert_refused(c, Transfer(actor="a", email_id="E1", agent="a"), StatusCode.INVALID_STATE)


def test_order_rules_before_policies() -> None:
    def never(command: Command, email: Email | None, /) -> Refused | None:
        return Refused(StatusCode.FORBIDDEN, "never")

    c = center(policies=(never,))
    accepted(ContactCenter().execute(Create(actor="a", email_id="D1")))  # no policy: fine
    assert_refused(c, Create(actor="a", email_id="D1"), StatusCode.FORBIDDEN)
    c2 = center()
    composing(c2, "D1")
    c2.policies = (never,)
    assert_refused(c2, Send(actor="a", email_id="D1", queue="out"), StatusCode.MISSING_PARAMETER)
    assert_refused(c2, Cancel(actor="a", email_id="D1"), StatusCode.FORBIDDEN)


def test_policies_run_in_order_and_see_command_and_email() -> None:
    seen: list[tuple[str, str | None]] = []

    def first(command: Command, email: Email | None, /) -> Refused | None:
        seen.append((type(command).__name__, None if email is None else email.id))
        return Refused(StatusCode.INVALID_VALUE, "first") if isinstance(command, Cancel) else None

    def second(command: Command, email: Email | None, /) -> Refused | None:
        return Refused(StatusCode.FORBIDDEN, "second")

    c = center()
    composing(c, "D1")
    c.policies = (first, second)
    refused = assert_refused(c, Cancel(actor="a", email_id="D1"), StatusCode.INVALID_VALUE)
    assert refused.message == "Cancel refused for email D1 (Composing): first"
    refused = assert_refused(c, AddComment(actor="a", email_id="D1", comment="x"), StatusCode(3))
    assert refused.message == "AddComment refused for email D1 (Composing): second"
    assert seen == [("Cancel", "D1"), ("AddComment", "D1")]


def test_refusal_messages_name_operation_email_and_state() -> None:
    c = center()
    processing(c)
    refused = assert_refused(c, Cancel(actor="a", email_id="E1"), StatusCode.INVALID_STATE)
    assert refused.message == "Cancel is not valid for email E1 in state Processing"
    refused = assert_refused(c, AddComment(actor="a", email_id="E1", comment=""), StatusCode(1))
    assert refused.message == "AddComment refused for email E1 (Processing): comment is required"


def test_decide_never_mutates_its_input() -> None:
    c = center()
    processing(c)
    emails: dict[str, Any] = dict(c.emails)
    snapshot = dict(emails)
    decision = decide(emails, Complete(actor="a", email_id="E1"))
    assert not isinstance(decision, Refused)
    assert emails == snapshot
    assert all(emails[k] is v for k, v in snapshot.items())


def test_decide_rejects_non_commands_as_programmer_errors() -> None:
    with pytest.raises(TypeError, match="not a command"):
        decide({}, "Accept")  # type: ignore[arg-type]
