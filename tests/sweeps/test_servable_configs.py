"""Every config a sweep accepts is servable: its suggestions never fail and stay in bounds.

Configs over every W&B distribution, with parameters at the float and integer extremes
(near ±1.8e308, subnormals, -0.0, integers near 2**62, huge sigma and mu, tiny and huge
beta shapes), nested too. A config the config module refuses is fine; one it accepts gets
20 suggest+report rounds with its method (bayes through its random start-up, the Gaussian
process and TPE), and every value must be finite and one its parameter can take.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from projects.models import Project
from sweeps import distributions, state_machine
from sweeps.config import ConfigError, Param, SweepConfig
from sweeps.lifecycle import create_sweep
from sweeps.models import SweepState, Trial

ROUNDS = 20
# Start-up trials of bayes, and the trials after which the Gaussian process hands over to
# TPE: 3 random, then GP for trials 3-7, then TPE, all within ROUNDS.
STARTUP, GP_TRIALS = 3, 8
FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much]

FLOAT_EXTREMES = [
    1.7976931348623157e308,
    -1.7976931348623157e308,
    1e308,
    -1e300,
    1e200,
    1e100,
    1e101,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    -0.0,
    0.0,
    1e-100,
    709.0,
    710.0,
    -745.0,
    -700.0,
    700.0,
]
INT_EXTREMES = [2**62, -(2**62), 2**62 + 1, 2**53, 2**53 + 1, 2**63 - 1, -(2**63), 10**400]

floats = st.one_of(
    st.sampled_from(FLOAT_EXTREMES),
    st.floats(-1e6, 1e6, allow_subnormal=True),
    st.floats(allow_nan=False, allow_infinity=False),
)
positive_floats = st.one_of(
    st.sampled_from([x for x in FLOAT_EXTREMES if x > 0]),
    st.floats(min_value=1e-6, max_value=1e3),
    st.floats(min_value=5e-324, allow_infinity=False),
)
ints = st.one_of(
    st.sampled_from(INT_EXTREMES),
    st.integers(-1000, 1000),
    st.integers(-(2**64), 2**64),
)
steps = st.one_of(positive_floats, st.integers(1, 10), st.sampled_from([2**62, 10**30]))

FLOAT_BOUNDED = ("uniform", "log_uniform", "inv_log_uniform", "q_uniform", "q_log_uniform")
VALUE_BOUNDED = ("log_uniform_values", "inv_log_uniform_values", "q_log_uniform_values")


@st.composite
def leaf(draw: st.DrawFn) -> dict[str, Any]:
    """One parameter of any W&B distribution, its numbers drawn from the extremes."""
    kind = draw(st.sampled_from(distributions_of_every_kind()))
    spec: dict[str, Any] = {"distribution": kind}
    if kind == "constant":
        spec["value"] = draw(st.one_of(floats, ints))
    elif kind == "categorical":
        spec["values"] = draw(st.lists(st.one_of(floats, ints), min_size=1, max_size=3))
    elif kind == "int_uniform":
        spec["min"], spec["max"] = sorted(draw(st.tuples(ints, ints)))
    elif kind in FLOAT_BOUNDED or kind in VALUE_BOUNDED:
        numbers = positive_floats if kind in VALUE_BOUNDED else floats
        spec["min"], spec["max"] = sorted(draw(st.tuples(numbers, numbers)))
    elif kind.removeprefix("q_") in ("normal", "log_normal"):
        spec["mu"], spec["sigma"] = draw(floats), draw(positive_floats)
    else:
        spec["a"], spec["b"] = draw(positive_floats), draw(positive_floats)
    if kind.startswith("q_"):
        spec["q"] = draw(steps)
    return spec


def distributions_of_every_kind() -> list[str]:
    return [
        "constant",
        "categorical",
        "int_uniform",
        *FLOAT_BOUNDED,
        *VALUE_BOUNDED,
        "normal",
        "q_normal",
        "log_normal",
        "q_log_normal",
        "beta",
        "q_beta",
    ]


parameters = st.dictionaries(
    st.sampled_from(["lr", "wd", "x"]),
    st.one_of(
        leaf(),
        st.dictionaries(st.sampled_from(["a", "b"]), leaf(), min_size=1, max_size=2).map(
            lambda inner: {"parameters": inner}
        ),
    ),
    min_size=1,
    max_size=2,
)


def _config(method: str, params: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {
        "method": method,
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": params,
    }
    if method == "bayes":
        config["optuna"] = {"n_startup_trials": STARTUP}
    return config


def _check_value(param: Param, value: Any) -> None:
    kind = param.distribution
    if kind in ("constant", "categorical"):
        return
    assert isinstance(value, int | float) and not isinstance(value, bool), (param, value)
    assert math.isfinite(value), (param, value)
    assert distributions.in_support(param, value), (param, value)
    if not kind.startswith("q_"):
        low, high = distributions.value_range(param)
        assert low <= value <= high, (param, value, low, high)


def _serve(project: Project, raw: dict[str, Any]) -> int:
    """20 rounds of suggest+report on `raw` if it is accepted; how many trials ran."""
    try:
        sweep = create_sweep(project, raw)
    except ConfigError:
        return 0
    config = SweepConfig.from_dict(sweep.config)
    served = 0
    for number in range(ROUNDS):
        try:
            trial: Trial = state_machine.suggest_trial(sweep.pk)
        except state_machine.SweepUnavailable as refused:
            # A grid (or a grid of one value) runs out; nothing else may refuse.
            assert refused.reason == "exhausted", refused
            break
        for param in config.parameters:
            _check_value(param, trial.params[param.name])
        state_machine.report_result(trial, [float((number * 7) % 5)])
        served += 1
    sweep.refresh_from_db()
    assert sweep.state != SweepState.FAILED
    return served


@pytest.fixture
def bayes_phases(settings: Any) -> None:
    settings.GP_MAX_TRIALS = GP_TRIALS


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=FIXTURES)
@given(params=parameters)
def test_random_serves_every_config_it_accepts(project: Project, params: dict[str, Any]) -> None:
    _serve(project, _config("random", params))


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=FIXTURES)
@given(params=parameters)
def test_grid_serves_every_config_it_accepts(project: Project, params: dict[str, Any]) -> None:
    _serve(project, _config("grid", params))


@settings(max_examples=15, deadline=None, database=None, suppress_health_check=FIXTURES)
@given(params=parameters)
def test_bayes_serves_every_config_it_accepts_through_both_samplers(
    project: Project, bayes_phases: None, params: dict[str, Any]
) -> None:
    _serve(project, _config("bayes", params))


EXTREME_CONFIGS = [
    # Each reached a 500 at suggest before the limits: (parameter, the path refused).
    ({"distribution": "uniform", "min": -1.7e308, "max": 1.7e308}, "x.min"),
    ({"distribution": "normal", "mu": 0.0, "sigma": 1e308}, "x.sigma"),
    ({"distribution": "log_normal", "mu": 800.0, "sigma": 1.0}, "x.mu"),
    ({"distribution": "int_uniform", "min": 0, "max": 2**62}, "x.max"),
    ({"distribution": "log_uniform", "min": -800.0, "max": 0.0}, "x.min"),
    ({"distribution": "q_uniform", "min": 0.0, "max": 1e6, "q": 5e-324}, "x.q"),
    ({"distribution": "q_normal", "mu": 0.0, "sigma": 1e20, "q": 1}, "x.q"),
    ({"distribution": "normal", "mu": 10**400, "sigma": 1.0}, "x.mu"),
    ({"distribution": "uniform", "min": -0.0, "max": 5e-324}, "x.max"),
]


@pytest.mark.parametrize(("spec", "path"), EXTREME_CONFIGS)
def test_it_refuses_what_cannot_be_served_naming_path_and_limit(
    api: APIClient, project: Project, spec: dict[str, Any], path: str
) -> None:
    body = {"project": project.slug, "config": _config("bayes", {"x": spec})}
    answer = api.post("/api/v1/sweeps/", body, format="json")

    assert answer.status_code == 400, answer.content
    problems = {p["path"]: p["message"] for p in answer.json()["problems"]}
    assert f"parameters.{path}" in problems, problems
    assert any(word in problems[f"parameters.{path}"] for word in ("limit", "range", "overflow"))


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "min": -1e100, "max": 1e100},
        {"distribution": "log_uniform_values", "min": 5e-324, "max": 1e100},
        # PostgreSQL's jsonb gives such coordinates back as integers, which numpy cannot log.
        {"distribution": "log_uniform_values", "min": 1e40, "max": 1e60},
        {"distribution": "int_uniform", "min": -(2**53), "max": 2**53},
        {"distribution": "log_normal", "mu": 0.0, "sigma": 69.0},
        {"distribution": "beta", "a": 1e-300, "b": 1e300},
        # scipy's beta quantile and CDF are NaN with both shapes near the float limit.
        {"distribution": "q_beta", "a": 1.7e308, "b": 1.7e308, "q": 0.01},
        {"distribution": "uniform", "min": -0.0, "max": 1e-100},
        {"distribution": "uniform", "min": 5e-324, "max": 5e-324},
    ],
)
@pytest.mark.parametrize("method", ["random", "bayes"])
def test_it_serves_configs_at_the_limits(
    project: Project, bayes_phases: None, spec: dict[str, Any], method: str
) -> None:
    assert _serve(project, _config(method, {"x": spec})) == ROUNDS
