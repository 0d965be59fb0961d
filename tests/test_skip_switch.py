"""The ``needs(program)`` marker of tests/conftest.py, and its EMAIL_FSM_NO_SKIPS switch.

Each test runs a small test file with the project's conftest in a fresh pytest (the
``pytester`` fixture), where the program the test needs is missing: ``PATH`` is an empty
directory, or the program is one that no machine has (added to the copy's PROGRAMS).
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CONFTEST = Path(__file__).with_name("conftest.py")
ABSENT = "email-fsm-absent-program"
"""A program no machine has, known to the copy of the conftest only."""

TESTS = f"""
import pytest

@pytest.mark.needs("dot")
def test_draws() -> None:
    pass

@pytest.mark.needs({ABSENT!r})
def test_needs_the_absent_program() -> None:
    pass

def test_needs_nothing() -> None:
    pass

def test_skips_itself() -> None:
    pytest.skip("not today")

@pytest.mark.xfail(reason="known to fail")
def test_known_to_fail() -> None:
    raise AssertionError
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The conftest (plus the absent program) and the tests above, with an empty PATH."""
    conftest = CONFTEST.read_text()
    pytester.makeconftest(f"{conftest}\nPROGRAMS[{ABSENT!r}] = 'the absent program (nowhere)'\n")
    pytester.makepyfile(test_needs=TESTS)
    empty = pytester.mkdir("empty-path")
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("EMAIL_FSM_NO_SKIPS", raising=False)
    return pytester


def _run(project: pytest.Pytester) -> pytest.RunResult:
    # -p no:cacheprovider: nothing is written beside the tests; -rA: every outcome, with
    # the reasons, in the short summary.
    return project.runpytest("-p", "no:cacheprovider", "-rA")


def test_a_missing_program_skips_the_test_with_the_reason(project: pytest.Pytester) -> None:
    result = _run(project)
    result.assert_outcomes(passed=1, skipped=3, xfailed=1)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]1[]] conftest.py:*: needs Graphviz's `dot` program "
            "(Debian/Ubuntu: apt-get install graphviz), which is not installed",
            "SKIPPED [[]1[]] conftest.py:*: needs the absent program (nowhere), "
            "which is not installed",
            "SKIPPED [[]1[]] test_needs.py:*: not today",
        ],
        consecutive=False,
    )


@pytest.mark.parametrize("value", ["1", "yes"])
def test_no_skips_turns_each_skip_into_a_failure(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EMAIL_FSM_NO_SKIPS", value)
    result = _run(project)
    # A skip in the set-up (the marker's) fails the set-up: pytest counts an error; a skip
    # in the test fails the test. An expected failure is not a skip: it stays one.
    result.assert_outcomes(passed=1, errors=2, failed=1, xfailed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "ERROR test_needs.py::test_draws - skipped, and EMAIL_FSM_NO_SKIPS forbids*",
            "ERROR test_needs.py::test_needs_the_absent_program - skipped, and*",
            "FAILED test_needs.py::test_skips_itself - skipped, and EMAIL_FSM_NO_SKIPS*",
        ],
        consecutive=False,
    )
    result.stdout.fnmatch_lines(
        [
            "skipped, and EMAIL_FSM_NO_SKIPS forbids skips: *needs Graphviz's `dot` program*",
            "skipped, and EMAIL_FSM_NO_SKIPS forbids skips: *needs the absent program*",
        ],
        consecutive=False,
    )


def test_no_skips_0_leaves_the_skips(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMAIL_FSM_NO_SKIPS", "0")
    _run(project).assert_outcomes(passed=1, skipped=3, xfailed=1)


def test_a_program_not_in_programs_is_an_error(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_unknown="""
        import pytest

        @pytest.mark.needs("no-such-entry")
        def test_unknown() -> None:
            pass
        """
    )
    result = project.runpytest("-p", "no:cacheprovider", "test_unknown.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*UsageError: unknown program 'no-such-entry': add it to PROGRAMS"]
    )
