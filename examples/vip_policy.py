"""The VIP example of ``docs/testing.md``, kept importable under its former name.

The examples now live in the installed package, :mod:`email_fsm.testing.examples`, so
that the documentation's code runs wherever ``email-fsm[testing]`` is installed; this
module re-exports the VIP rule's names from there.
"""

from __future__ import annotations

from email_fsm.testing.examples import VIP_QUEUE, first_draft, is_vip, vip_stays_with_vip

__all__ = ["VIP_QUEUE", "first_draft", "is_vip", "vip_stays_with_vip"]
