from __future__ import annotations

from datetime import timedelta
from io import StringIO

from django.utils import timezone

from runs.management.commands.crash_silent_runs import Command
from runs.models import Run


def test_it_crashes_only_runs_silent_past_the_timeout(run: Run) -> None:
    quiet = Run.objects.create(project=run.project, name="quiet")
    Run.objects.filter(pk=quiet.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    Command(stdout=out).handle()
    assert out.getvalue().startswith("1 run(s)")
    quiet.refresh_from_db()
    run.refresh_from_db()
    assert (quiet.state, run.state) == ("crashed", "running")
