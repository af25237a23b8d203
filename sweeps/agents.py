"""The agents of a sweep: who runs its trials, as each announced itself.

An agent (the client's `sweeptracker agent` or `wandb.agent`) sends the header
`X-SweepTracker-Agent` on its requests, a query string of its random `id`, `host`,
`pid` and `started` (ISO 8601). A suggestion that carries it records the agent
(created on its first, its last-seen time written at most once a second from
each server process) and stores the trial handed out as that agent's in the
trial's own INSERT; a refused suggestion (paused, busy) records that the agent
is still there. No request is added for this,
except one as the agent exits (`POST .../agents/` with `stopped`), so that
the page stops listing it at once instead of after `AGENT_TIMEOUT`.

An agent is live while it has not said it stopped and either its last request
or the heartbeat of the run of a trial it is running is younger than
`AGENT_TIMEOUT` seconds: a long trial keeps its agent live through its run's
heartbeats, and nothing is written for that beyond them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from sweeps.models import Agent, Sweep, Trial, TrialState
from sweeptracker.pages import format_duration

HEADER = "X-SweepTracker-Agent"
# How the header arrives in request.META.
META_KEY = "HTTP_" + HEADER.upper().replace("-", "_")
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_HOST = 255


@dataclass(frozen=True)
class Announcement:
    """What an agent says about itself."""

    key: str
    host: str = ""
    pid: int | None = None
    started_at: datetime | None = None


def read_header(text: str) -> Announcement | None:
    """The announcement in a header's value; None when it names no valid id. Other
    fields that do not parse are left out: a bad header never fails the request."""
    fields = {name: values[-1] for name, values in parse_qs(text[:2048]).items()}
    key = fields.get("id", "")
    if not KEY_PATTERN.fullmatch(key):
        return None
    pid_text = fields.get("pid", "")
    pid = int(pid_text) if pid_text.isdigit() and int(pid_text) < 2**31 else None
    return Announcement(
        key=key,
        host=fields.get("host", "")[:MAX_HOST],
        pid=pid,
        started_at=_aware(fields.get("started", "")),
    )


def _aware(text: str) -> datetime | None:
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    if moment is None:
        return None
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


def announced(request: HttpRequest) -> Announcement | None:
    """The announcement a request carries, if any."""
    text = request.META.get(META_KEY, "")
    return read_header(text) if text else None


# Seconds between two writes of one agent's last_seen_at from one server process: an agent
# asking every few milliseconds need not write each time when liveness is judged by the
# minute (AGENT_TIMEOUT).
SEEN_WRITE_INTERVAL = 1.0
# (sweep id, agent key) -> (the agent's id, time.monotonic() of this process's last write).
_written: dict[tuple[str, str], tuple[int, float]] = {}
MAX_REMEMBERED = 4096


def seen(sweep: Sweep, who: Announcement) -> int:
    """Note that the agent was seen now, at most once a SEEN_WRITE_INTERVAL from this
    process, and answer its id: a suggestion stores it with the trial it hands out."""
    remembered = _written.get((sweep.pk, who.key))
    if remembered is not None and time.monotonic() - remembered[1] < SEEN_WRITE_INTERVAL:
        return remembered[0]
    return _write(sweep, who, {"last_seen_at": timezone.now()})


def record(
    sweep: Sweep, who: Announcement, trial: Trial | None = None, stopped: bool = False
) -> None:
    """Note that the agent was seen now (stopped, when it says so); the trial it was
    handed, if any, becomes its own."""
    now = timezone.now()
    changes: dict[str, object] = {"last_seen_at": now}
    if stopped:
        changes["stopped_at"] = now
    with transaction.atomic():
        agent_id = _write(sweep, who, changes)
        if trial is not None:
            Trial.objects.filter(pk=trial.pk).update(agent_id=agent_id)


def _write(sweep: Sweep, who: Announcement, changes: dict[str, object]) -> int:
    """Update the agent's row with `changes`, creating it on its first request; its id."""
    remembered = _written.get((sweep.pk, who.key))
    mine = Agent.objects.filter(sweep=sweep, key=who.key)
    if remembered is not None and mine.filter(pk=remembered[0]).update(**changes):
        agent_id = remembered[0]
    elif mine.update(**changes):
        agent_id = mine.values_list("pk", flat=True).get()
    else:
        try:
            with transaction.atomic():
                agent_id = Agent.objects.create(
                    sweep=sweep,
                    key=who.key,
                    host=who.host,
                    pid=who.pid,
                    started_at=who.started_at,
                    **changes,
                ).pk
        except IntegrityError:
            # Its previous request made it meanwhile (a retry that crossed the first).
            mine.update(**changes)
            agent_id = mine.values_list("pk", flat=True).get()
    if len(_written) >= MAX_REMEMBERED:
        _written.clear()
    _written[(sweep.pk, who.key)] = (agent_id, time.monotonic())
    return agent_id


def timeout() -> timedelta:
    return timedelta(seconds=settings.AGENT_TIMEOUT)


def with_activity(agents: QuerySet[Agent]) -> QuerySet[Agent]:
    """Agents with the number of trials each was handed (`trial_count`), the trial it
    runs now if any (`current_number`, `current_run`) and that run's heartbeat."""
    running = Trial.objects.filter(agent=OuterRef("pk"), state=TrialState.RUNNING).order_by(
        "-number"
    )
    counted = (
        Trial.objects.filter(agent=OuterRef("pk"))
        .order_by()
        .values("agent")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return agents.annotate(
        trial_count=Coalesce(Subquery(counted), 0),
        current_number=Subquery(running.values("number")[:1]),
        current_run=Subquery(running.values("run_id")[:1]),
        current_heartbeat=Subquery(running.values("run__heartbeat_at")[:1]),
    )


def live_agents(sweep: Sweep, now: datetime | None = None) -> list[Agent]:
    """The sweep's live agents (see the module's docstring), first seen first."""
    cutoff = (now or timezone.now()) - timeout()
    agents = with_activity(sweep.agents.filter(stopped_at__isnull=True))
    live = agents.filter(Q(last_seen_at__gte=cutoff) | Q(current_heartbeat__gte=cutoff))
    return list(live.order_by("first_seen_at", "pk"))


def last_activity(agent: Agent) -> datetime:
    """The agent's last request, or its current run's later heartbeat."""
    # An annotation of with_activity(), absent on a row loaded otherwise.
    heartbeat: datetime | None = getattr(agent, "current_heartbeat", None)
    return max(agent.last_seen_at, heartbeat) if heartbeat else agent.last_seen_at


def is_live(agent: Agent, now: datetime | None = None) -> bool:
    if agent.stopped_at is not None:
        return False
    return last_activity(agent) >= (now or timezone.now()) - timeout()


@dataclass(frozen=True)
class AgentRow:
    """An agent as the sweep page lists it."""

    key: str
    host: str
    pid: int | None
    started_at: datetime
    started: str  # "4m 09s ago"
    last_seen_at: datetime
    last_seen: str
    trials: int
    current_number: int | None
    current_run: int | None


def page_rows(sweep: Sweep) -> list[AgentRow]:
    """The live agents of the sweep, for its page."""
    now = timezone.now()
    rows = []
    for agent in live_agents(sweep, now):
        started = agent.started_at or agent.first_seen_at
        seen = last_activity(agent)
        rows.append(
            AgentRow(
                key=agent.key,
                host=agent.host,
                pid=agent.pid,
                started_at=started,
                started=f"{format_duration(now - started)} ago",
                last_seen_at=seen,
                last_seen=f"{format_duration(now - seen)} ago",
                # Annotations of with_activity().
                trials=getattr(agent, "trial_count", 0),
                current_number=getattr(agent, "current_number", None),
                current_run=getattr(agent, "current_run", None),
            )
        )
    return rows
