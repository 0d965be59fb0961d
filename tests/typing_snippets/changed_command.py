"""A command is an immutable value: changing one after it is built fails type-checking
(and raises AttributeError at run time)."""

from email_fsm import Accept

command = Accept(actor="alice", email_id="E1")
command.actor = "bob"  # error: [misc] Property "actor" defined in "Accept" is read-only
