"""How an agent names itself to the server, so that the sweep's page lists it.

The agent sends `X-SweepTracker-Agent: id=...&host=...&pid=...&started=...` on
every request of its connection; the server reads it on suggestions (the
requests an agent makes anyway) and keeps who ran which trial. As it exits, the
agent says so in one request, so that the page stops listing it at once.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

from sweeptracker_client.api import Api
from sweeptracker_client.errors import SweepTrackerError

HEADER = "X-SweepTracker-Agent"


@dataclass(frozen=True)
class Identity:
    """This agent: a random id, the machine and process it runs in, when it started."""

    key: str = field(default_factory=lambda: secrets.token_hex(8))
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    def header(self) -> str:
        """The header's value: a query string, ASCII whatever the host's name."""
        fields = {
            "id": self.key,
            "host": self.host,
            "pid": str(self.pid),
            "started": self.started.isoformat(timespec="seconds"),
        }
        return urlencode(fields, quote_via=quote)


def announce(api: Api, identity: Identity) -> None:
    """Name the agent on every request `api` sends from now on."""
    api.session.headers[HEADER] = identity.header()


def say_stopped(api: Api, sweep_id: str) -> None:
    """Tell the server the agent exits; an error is no reason to fail the agent's exit
    (without this the agent drops from the page after the server's AGENT_TIMEOUT)."""
    path = f"sweeps/{quote(sweep_id, safe='')}/agents/"
    with contextlib.suppress(SweepTrackerError):
        api.request("POST", path, body={"stopped": True}, timeout=5)
