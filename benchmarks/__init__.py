"""Benchmarks of email_fsm against a hand-written limit and two state-machine libraries.

Run ``make bench`` (or ``python -m benchmarks``); see ``benchmarks/README.md``. Timing
figures never go into the test suite: ``tests/test_bench_smoke.py`` runs this code with
tiny counts and checks only that every machine ends in the same states.
"""
