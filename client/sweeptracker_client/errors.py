"""The one exception the client raises for anything the server or the network refused."""

from __future__ import annotations

from typing import Any

# Statuses worth retrying: the same request may succeed later.
RETRYABLE_STATUSES = {408, 429}


class SweepTrackerError(Exception):
    """A request failed, or the client is not set up.

    `status` is the HTTP status (None when no answer came back or no request
    was made), `detail` the server's JSON error body, and `unreachable` says
    that the server could not be reached at all.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        detail: Any = None,
        *,
        unreachable: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.detail = detail
        self.unreachable = unreachable

    @property
    def retryable(self) -> bool:
        """True when sending the same request again later may work."""
        if self.unreachable:
            return True
        return self.status is not None and (self.status in RETRYABLE_STATUSES or self.status >= 500)


class SweepConfigError(SweepTrackerError):
    """The server refused a sweep config; `problems` holds each fault as `path: message`."""

    def __init__(self, problems: list[str], status: int | None = None, detail: Any = None) -> None:
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(
            f"The sweep config has {len(problems)} problem(s):\n{lines}", status, detail
        )
        self.problems = problems


class SweepUnavailable(SweepTrackerError):
    """The sweep has no trial to hand out now.

    `reason` is the server's (paused, busy, capped, exhausted, finished,
    canceled, failed); `retry` says whether asking again later may get one.
    """

    def __init__(
        self, message: str, reason: str, retry: bool, state: str, detail: Any = None
    ) -> None:
        super().__init__(message, 409, detail)
        self.reason = reason
        self.retry = retry
        self.state = state
