"""The former name of :class:`~email_fsm.store.EmailStore`: ``ContactCenter`` is it.

Kept so that code written against ``email_fsm.center.ContactCenter`` keeps working; new
code uses :class:`~email_fsm.store.EmailStore` (``docs/api/store.md``).
"""

from __future__ import annotations

from .store import EmailStore as ContactCenter

__all__ = ["ContactCenter"]
