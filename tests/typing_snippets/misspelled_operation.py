"""A misspelled operation is a name mypy does not know."""

from email_fsm import Acept, decide  # error: [attr-defined] Module "email_fsm" has no attribute "Acept"

decide({}, Acept(actor="alice", email_id="E1"))
