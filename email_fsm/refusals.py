"""Status codes and refusals: a refused request is a value, never an exception.

The codes are GWS's ``ReturnValues`` (SPEC.md §7). A :class:`Refused` carries the code
and a human-readable reason naming the operation, the email and its state, and renders
as the synchronous GWS response ``{"statusCode": n, "statusMessage": "..."}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["Refused", "StatusCode"]


class StatusCode(IntEnum):
    """GWS status codes used by this model; ``OK`` is the accepted response."""

    OK = 0
    MISSING_PARAMETER = 1
    INVALID_STATE = 2
    FORBIDDEN = 3
    NOT_FOUND = 6
    INVALID_VALUE = 10
    ALREADY_EXISTS = 18


@dataclass(frozen=True, slots=True)
class Refused:
    """A refused request: nothing changed and nobody is notified.

    >>> Refused(StatusCode.FORBIDDEN, "b may not Complete email E1").response()
    {'statusCode': 3, 'statusMessage': 'b may not Complete email E1'}
    """

    code: StatusCode
    message: str

    accepted = False

    def response(self) -> dict[str, int | str]:
        """The synchronous GWS response body for this refusal."""
        return {"statusCode": int(self.code), "statusMessage": self.message}
