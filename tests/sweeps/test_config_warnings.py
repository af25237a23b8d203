"""Warnings on valid configs that are probably not what was meant, uniform + q, and grids
over continuous parameters (sweeps.config, sweeps.config_warnings, sweeps.distributions)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import yaml

from projects.models import Project
from runs.ingest import log_batch
from runs.models import Run
from sweeps import distributions
from sweeps.config import DEFAULT_GRID_POINTS, ConfigError, SweepConfig, normalize
from sweeps.config_warnings import ConfigWarning, config_warnings
from sweeps.lifecycle import create_sweep
from sweeps.metric_hints import unlogged_metrics

# The specification's parameter block, as users will paste it.
SPEC_PARAMETERS = yaml.safe_load(
    """
learning_rate: {distribution: log_uniform, min: 0.0001, max: 0.01}
batch_size:    {values: [16, 32, 64, 128]}
optimizer:     {values: [adam, sgd, rmsprop]}
dropout:       {distribution: uniform, min: 0.0, max: 0.5, q: 0.1}
epochs:        {value: 20}
"""
)
LR_WARNING = (
    "log_uniform takes natural-log bounds, so this samples 1.0001–1.0101; "
    "for 0.0001–0.01 write log_uniform_values"
)


def spec_config(method: str, **extra: Any) -> dict[str, Any]:
    return {
        "method": method,
        "metric": {"name": "best_accuracy", "goal": "maximize"},
        "parameters": SPEC_PARAMETERS,
        **extra,
    }


def warnings_of(raw: dict[str, Any]) -> list[ConfigWarning]:
    return config_warnings(raw, normalize(raw))


def messages_at(raw: dict[str, Any], path: str) -> list[str]:
    return [w.message for w in warnings_of(raw) if w.path == path]


def one_param(spec: dict[str, Any], method: str = "random", **extra: Any) -> dict[str, Any]:
    return {"method": method, "parameters": {"x": spec}, **extra}


# -- the specification's block ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["random", "bayes", "grid"])
def test_it_keeps_wandbs_meaning_of_the_spec_block_and_says_so(method: str) -> None:
    raw = spec_config(method)
    config = normalize(raw)
    kinds = {p.name: p.distribution for p in config.parameters}

    found = warnings_of(raw)

    assert kinds["learning_rate"] == "log_uniform"  # W&B's meaning, untouched
    assert kinds["dropout"] == "q_uniform"
    lr = [w.message for w in found if w.path == "parameters.learning_rate"]
    assert lr[0] == LR_WARNING
    dropout = [w.message for w in found if w.path == "parameters.dropout"]
    assert dropout[0].startswith("uniform with q is read as q_uniform (W&B refuses q on uniform)")
    assert "0.0, 0.1, 0.2, 0.3, 0.4 and 0.5" in dropout[0]
    assert {w.path for w in found} <= {"parameters.learning_rate", "parameters.dropout"}


def test_it_discretizes_the_spec_block_into_a_grid() -> None:
    config = normalize(spec_config("grid"))
    params = {p.name: p for p in config.parameters}

    lr = distributions.discrete_values(params["learning_rate"])
    points = distributions.grid_points(config.parameters)

    assert params["learning_rate"].grid_points == DEFAULT_GRID_POINTS == 5
    assert len(lr) == 5 and lr == sorted(lr)
    assert lr[0] == pytest.approx(math.exp(0.0001)) and lr[-1] == pytest.approx(math.exp(0.01))
    # Log-spaced: equal ratios between neighbours.
    assert np.allclose(np.diff(np.log(lr)), (0.01 - 0.0001) / 4)
    # W&B's grid over q_uniform is numpy.arange(0, 0.5, 0.1): 0.5 is left out.
    assert distributions.discrete_values(params["dropout"]) == pytest.approx(
        [0, 0.1, 0.2, 0.3, 0.4]
    )
    assert len(points) == distributions.space_size(config.parameters) == 5 * 4 * 3 * 5
    messages = messages_at(spec_config("grid"), "parameters.learning_rate")
    assert messages[1].startswith("a grid cannot enumerate log_uniform, so it tries 5 log-spaced")
    assert "1.0001, 1.0026, 1.0051, 1.0076 and 1.0101" in messages[1]
    arange = messages_at(spec_config("grid"), "parameters.dropout")[1]
    assert "numpy.arange(min, max, q)" in arange and "without max 0.5" in arange
    assert "write values: [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]" in arange


# -- each warning ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"distribution": "q_log_uniform", "min": 0.0001, "max": 0.01},
            "q_log_uniform takes natural-log bounds, so this samples only 1.0 (rounded to "
            "q = 1.0); for 0.0001–0.01 write q_log_uniform_values",
        ),
        (
            {"distribution": "inv_log_uniform", "min": 0.0001, "max": 0.01},
            "inv_log_uniform samples exp(-x) for x between natural-log bounds, so this samples "
            "0.99005–0.9999; for 0.0001–0.01 write inv_log_uniform_values",
        ),
        (
            {"distribution": "log_uniform", "min": 16, "max": 256},
            "log_uniform takes natural-log bounds, so this samples 8.8861e+06–1.5114e+111; "
            "for 16–256 write log_uniform_values",
        ),
    ],
)
def test_it_warns_of_log_bounds_that_look_like_values(spec: dict[str, Any], expected: str) -> None:
    assert messages_at(one_param(spec), "parameters.x") == [expected]


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "log_uniform", "min": -9.21, "max": -2.3},
        {"distribution": "log_uniform", "min": 0.0, "max": 5.0},
        {"distribution": "inv_log_uniform", "min": 2.0, "max": 9.0},
        {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.01},
    ],
)
def test_it_leaves_real_natural_log_bounds_alone(spec: dict[str, Any]) -> None:
    assert warnings_of(one_param(spec)) == []


def test_it_points_values_bounds_that_are_logs_at_log_uniform() -> None:
    with pytest.raises(ConfigError) as caught:
        normalize(one_param({"distribution": "log_uniform_values", "min": -9.2, "max": -2.3}))
    assert caught.value.problems == [
        (
            "parameters.x.min",
            "must be greater than 0: log_uniform_values bounds are the values themselves, on "
            "a log scale; for bounds that are natural logs write log_uniform",
        )
    ]


def test_it_warns_when_q_is_larger_than_the_range() -> None:
    raw = one_param({"distribution": "q_uniform", "min": 0.0, "max": 0.1, "q": 0.5})
    assert messages_at(raw, "parameters.x") == [
        "q (0.5) is larger than the range 0.0–0.1, so this samples only 0.0; use a q below "
        "0.1, or value for a constant"
    ]
    wide = one_param({"distribution": "q_log_uniform_values", "min": 1, "max": 3, "q": 4})
    assert "so this samples only 0 or 4" in messages_at(wide, "parameters.x")[0]
    # Samples agree with what the warning says.
    param = normalize(wide).parameters[0]
    rng = np.random.default_rng(0)
    assert {distributions.sample(param, rng) for _ in range(200)} == {0, 4}


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        ({"values": [20]}, "20"),
        ({"values": ["adam", "adam"]}, '"adam"'),
        ({"values": [1, 2], "probabilities": [1.0, 0.0]}, "1"),
    ],
)
def test_it_warns_of_a_constant_written_as_one_value(spec: dict[str, Any], value: str) -> None:
    assert messages_at(one_param(spec), "parameters.x") == [
        f"values lists a single value, so every run gets {value}; write value: {value} for a "
        "constant"
    ]


@pytest.mark.parametrize(
    ("spec", "gets"),
    [
        ({"min": 3, "max": 3}, "3"),
        ({"min": 0.5, "max": 0.5}, "0.5"),
        ({"distribution": "log_uniform", "min": 0.0, "max": 0.0}, "1.0"),
        ({"distribution": "q_uniform", "min": 0.4, "max": 0.4, "q": 0.25}, "0.5"),
    ],
)
def test_it_accepts_min_equal_to_max_with_a_warning(spec: dict[str, Any], gets: str) -> None:
    raw = one_param(spec)
    param = normalize(raw).parameters[0]

    message = messages_at(raw, "parameters.x")

    assert message == [
        f"min equals max ({spec['min']}), so every run gets {gets}; write value: {gets}"
    ]
    rng = np.random.default_rng(1)
    assert {str(distributions.sample(param, rng)) for _ in range(20)} == {gets}


def test_it_refuses_an_empty_q_uniform_grid() -> None:
    raw = one_param({"distribution": "q_uniform", "min": 1.0, "max": 1.0}, method="grid")
    with pytest.raises(ConfigError) as caught:
        normalize(raw)
    assert caught.value.problems[0][0] == "parameters.x"
    assert "write value: 1.0" in caught.value.problems[0][1]


@pytest.mark.parametrize(
    "spec", [{"min": 0.0, "max": 0.5, "q": 0.1}, {"min": 1.0, "max": 9.0, "q": 2}]
)
def test_it_reads_inferred_uniform_with_q_as_q_uniform(spec: dict[str, Any]) -> None:
    param = normalize(one_param(spec)).parameters[0]
    assert param.distribution == "q_uniform" and param.q == spec["q"]
    rng = np.random.default_rng(2)
    for _ in range(100):
        value = distributions.sample(param, rng)
        assert distributions.in_support(param, value)
        assert isinstance(value, type(spec["q"]))
    assert messages_at(one_param(spec), "parameters.x")[0].startswith("uniform with q is read")


def test_it_does_not_warn_of_an_explicit_q_uniform() -> None:
    raw = one_param({"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.1})
    assert warnings_of(raw) == []


# -- grids over continuous parameters --------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"min": 0.0, "max": 1.0}, [0.0, 0.25, 0.5, 0.75, 1.0]),
        (
            {"distribution": "log_uniform_values", "min": 0.0001, "max": 1.0},
            [1e-4, 1e-3, 1e-2, 0.1, 1.0],
        ),
        (
            {"distribution": "inv_log_uniform_values", "min": 0.01, "max": 100.0},
            [0.01, 0.1, 1.0, 10.0, 100.0],
        ),
        (
            {"distribution": "q_log_uniform_values", "min": 16, "max": 256, "q": 16},
            [16, 32, 64, 128, 256],
        ),
        ({"distribution": "q_uniform", "min": 0, "max": 10, "q": 3}, [0, 3, 6, 9]),
    ],
)
def test_it_spreads_grid_points_over_each_kind(spec: dict[str, Any], expected: list[Any]) -> None:
    param = normalize(one_param(spec, method="grid")).parameters[0]
    values = distributions.discrete_values(param)
    assert values == pytest.approx(expected)
    assert [type(v) for v in values] == [type(v) for v in expected]


def test_it_dedupes_integer_grid_points() -> None:
    raw = one_param(
        {"distribution": "q_log_uniform_values", "min": 1, "max": 4, "q": 1, "grid_points": 8},
        method="grid",
    )
    param = normalize(raw).parameters[0]
    assert distributions.discrete_values(param) == [1, 2, 3, 4]
    assert distributions.space_size([param]) == 4
    assert "rounded to q = 1, which leaves 4 distinct" in messages_at(raw, "parameters.x")[0]


def test_it_discretizes_unbounded_kinds_by_quantiles() -> None:
    raw = one_param({"distribution": "normal", "mu": 10.0, "sigma": 2.0}, method="grid")
    param = normalize(raw).parameters[0]
    values = distributions.discrete_values(param)
    expected = [10 + 2 * z for z in (-1.2815515655, -0.5244005127, 0.0, 0.5244005127, 1.2815515655)]
    assert values == pytest.approx(expected)
    assert "values at the quantiles (i + 0.5)/5" in messages_at(raw, "parameters.x")[0]
    beta = normalize(one_param({"distribution": "beta", "a": 2.0, "b": 2.0}, method="grid"))
    assert distributions.discrete_values(beta.parameters[0])[2] == pytest.approx(0.5)


def test_it_takes_grid_points_from_the_parameter_then_the_sweep() -> None:
    raw = {
        "method": "grid",
        "grid_points": 3,
        "parameters": {
            "a": {"min": 0.0, "max": 1.0},
            "b": {"min": 0.0, "max": 1.0, "grid_points": 11},
        },
    }
    config = normalize(raw)
    assert [p.grid_points for p in config.parameters] == [3, 11]
    assert [len(distributions.discrete_values(p)) for p in config.parameters] == [3, 11]
    assert distributions.discrete_values(config.parameters[1])[3] == 0.3  # not 0.30000000000000004
    assert config.grid_points == 3
    assert SweepConfig.from_dict(config.to_dict()) == config


def test_it_still_caps_the_grid() -> None:
    raw = {
        "method": "grid",
        "grid_points": 1000,
        "parameters": {"a": {"min": 0.0, "max": 1.0}, "b": {"min": 0.0, "max": 1.0}},
    }
    with pytest.raises(ConfigError) as caught:
        normalize(raw)
    assert caught.value.problems == [
        ("parameters", "has 1000000 points, more than the 100000 a grid may enumerate")
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1, "must be 2 or more, not 1"),
        (10**6, "must be at most 100000, not 1000000"),
        (2.5, "must be an integer, not 2.5"),
    ],
)
def test_it_checks_grid_points(value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalize(one_param({"min": 0.0, "max": 1.0, "grid_points": value}, method="grid"))
    assert caught.value.problems == [("parameters.x.grid_points", message)]


def test_it_says_where_grid_points_does_nothing() -> None:
    raw = one_param({"min": 0.0, "max": 1.0, "grid_points": 4}, grid_points=3)
    assert [str(w) for w in warnings_of(raw)] == [
        "grid_points: only a grid uses grid_points; this random sweep ignores it",
        "parameters.x.grid_points: only a grid uses grid_points; this random sweep ignores it",
    ]
    assert normalize(raw).parameters[0].grid_points is None
    grid = one_param({"values": [1, 2], "grid_points": 4}, method="grid")
    assert messages_at(grid, "parameters.x.grid_points")[0].startswith(
        "ignored: a grid enumerates categorical as W&B does"
    )


def test_it_finds_the_raw_spec_of_a_nested_parameter() -> None:
    raw = {
        "method": "random",
        "parameters": {
            "opt": {"parameters": {"lr": {"distribution": "log_uniform", "min": 0.001, "max": 0.1}}}
        },
    }
    assert [w.path for w in warnings_of(raw)] == ["parameters.opt.parameters.lr"]


# -- the metric's hint (database) ------------------------------------------------------------


def test_it_hints_at_a_metric_no_run_has_logged(project: Project) -> None:
    config = normalize(spec_config("random"))
    assert unlogged_metrics(project, config) == []  # a project without runs: nothing to say

    run = Run.objects.create(project=project, name="earlier")
    log_batch(run, {"rows": [{"step": 0, "values": {"best_acc": 0.5, "loss": 1.0}}]})

    assert unlogged_metrics(project, config) == [
        ConfigWarning(
            "metric.name",
            "no run of this project has logged 'best_accuracy' yet; did you mean 'best_acc'? "
            "The sweep ranks runs by this exact key, so its runs must log it (wandb.log or "
            "wandb.summary)",
        )
    ]
    log_batch(run, {"summary": {"best_accuracy": 0.9}})
    assert unlogged_metrics(project, config) == []


def test_it_hints_per_metric_of_a_multi_objective_sweep(project: Project) -> None:
    run = Run.objects.create(project=project, name="earlier")
    log_batch(run, {"rows": [{"step": 0, "values": {"loss": 1.0}}]})
    config = normalize(
        {
            "method": "random",
            "metric": [{"name": "loss"}, {"name": "latency"}],
            "parameters": SPEC_PARAMETERS,
        }
    )
    assert [w.path for w in unlogged_metrics(project, config)] == ["metric[1].name"]


def test_it_stores_the_warnings_on_the_sweep(project: Project) -> None:
    Run.objects.create(project=project, name="earlier", summary={"accuracy": 0.7})

    sweep = create_sweep(project, spec_config("grid"))

    sweep.refresh_from_db()
    paths = [w["path"] for w in sweep.warnings]
    assert paths == [
        "parameters.learning_rate",
        "parameters.learning_rate",
        "parameters.dropout",
        "parameters.dropout",
        "metric.name",
    ]
    assert sweep.warnings[0] == {"path": "parameters.learning_rate", "message": LR_WARNING}
