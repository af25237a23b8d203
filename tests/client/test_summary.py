"""The summary: the last logged value of each key, unless set by hand."""

from __future__ import annotations

import sweeptracker_client as st
from sweeptracker_client import Api

from runs.models import Run as RunRow


def test_it_keeps_the_last_logged_value_of_each_key(client_env: str) -> None:
    run = st.init()
    for step in range(5):
        run.log({"loss": 10 - step, "acc": step / 10})
    run.log({"loss": 0.5})
    assert dict(run.summary) == {"loss": 0.5, "acc": 0.4}
    run.finish()

    with Api() as api:
        assert api.run(run.id).summary == {"loss": 0.5, "acc": 0.4}


def test_it_keeps_a_value_set_by_hand_over_later_logs(client_env: str) -> None:
    run = st.init()
    run.log({"loss": 3.0, "acc": 0.1})
    run.summary["loss"] = 0.01
    run.summary.update({"best_epoch": 7, "note": "early stop"})
    run.log({"loss": 2.0, "acc": 0.2})
    run.log({"best_epoch": 9})
    assert dict(run.summary) == {"loss": 0.01, "acc": 0.2, "best_epoch": 7, "note": "early stop"}
    run.finish()

    with Api() as api:
        summary = api.run(run.id).summary
    assert summary == {"loss": 0.01, "acc": 0.2, "best_epoch": 7, "note": "early stop"}


def test_it_removes_a_deleted_key_on_the_server(client_env: str) -> None:
    run = st.init()
    run.log({"loss": 1.0, "acc": 0.5})
    del run.summary["acc"]
    run.log({"loss": 0.5})
    run.finish()

    assert RunRow.objects.get(pk=run.id).summary == {"loss": 0.5}
