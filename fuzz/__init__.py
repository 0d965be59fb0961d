"""Coverage-guided fuzzing (atheris, libFuzzer) of every boundary where outside bytes enter.

One module per target, each runnable as ``python -m fuzz.<target> [libFuzzer arguments]``;
:mod:`fuzz.common` holds what they share, :mod:`fuzz.deep` runs them all (``make fuzz-deep``).

Importing this package imports ``email_fsm``, its server and its simulator under
:func:`atheris.instrument_imports`, so that libFuzzer's coverage counters see the
package's branches: every harness is a module of it, so this runs before the harness
imports anything of ``email_fsm``.
"""

import atheris  # type: ignore[import-untyped]  # no stubs, no py.typed

with atheris.instrument_imports(include=["email_fsm"]):
    import email_fsm.codec
    import email_fsm.email
    import email_fsm.requests
    import email_fsm.scenario
    import email_fsm.server.app
    import email_fsm.server.bayeux
    import email_fsm.sim.scenario  # noqa: F401
