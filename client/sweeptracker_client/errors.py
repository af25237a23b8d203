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
