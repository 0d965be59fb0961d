"""A parameter of the wrong type, and a parameter that does not exist."""

from email_fsm import Accept, Transfer

Transfer(actor="alice", email_id="E1", queue=42)  # error: [arg-type] Argument "queue" to "Transfer" has incompatible type "int"
Accept(actor="alice", email_id="E1", reference_id="7")  # error: [arg-type] Argument "reference_id" to "Accept" has incompatible type "str"
Accept(actor="alice", email_id="E1", save_lar=True, priority=1)  # error: [call-arg] Unexpected keyword argument "priority" for "Accept"
