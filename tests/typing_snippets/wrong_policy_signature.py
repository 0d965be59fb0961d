"""Policies must take (command, email) and return Refused | None."""

from email_fsm import Command, ContactCenter


def one_argument(command: Command) -> None:
    return None


def returns_a_bool(command: Command, email: object) -> bool:
    return True


ContactCenter(policies=[one_argument])  # error: [list-item] List item 0 has incompatible type
ContactCenter(policies=[returns_a_bool])  # error: [list-item] List item 0 has incompatible type
