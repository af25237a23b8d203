"""Metric points have no foreign key in the database (it halved ingest on PostgreSQL):
Django's cascade must still delete them with their run, and a resend still counts once."""

from __future__ import annotations

from projects.models import Project
from runs.ingest import log_batch
from runs.models import MetricPoint, Run


def batch(steps: range) -> dict[str, object]:
    return {"rows": [{"step": s, "values": {"loss": 1.0 / (s + 1), "acc": s}} for s in steps]}


def test_it_deletes_the_points_with_their_run(project: Project) -> None:
    doomed, kept = (Run.objects.create(project=project, name=n) for n in ("doomed", "kept"))
    log_batch(doomed, batch(range(50)))
    log_batch(kept, batch(range(7)))

    doomed.delete()

    assert not MetricPoint.objects.filter(run_id=doomed.pk).exists()
    assert MetricPoint.objects.filter(run=kept).count() == 14


def test_it_deletes_the_points_with_their_project(project: Project) -> None:
    run = Run.objects.create(project=project, name="r")
    log_batch(run, batch(range(10)))

    project.delete()

    assert not MetricPoint.objects.exists()


def test_it_stores_a_resent_batch_once(project: Project) -> None:
    run = Run.objects.create(project=project, name="r")

    log_batch(run, batch(range(100)))
    log_batch(run, batch(range(100)))
    log_batch(run, batch(range(90, 120)))  # overlaps the first: only 20 are new

    rows = MetricPoint.objects.filter(run=run, key="loss").order_by("step")
    assert list(rows.values_list("step", flat=True)) == list(range(120))
    assert rows.get(step=3).value == 0.25
