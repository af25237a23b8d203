from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sweeps import distributions
from sweeps.config import (
    DEFAULT_COMMAND,
    DISTRIBUTIONS,
    ConfigError,
    SweepConfig,
    hyperband_bands,
    normalize,
    parse_text,
)

# CI puts shared/ beside the clone, as it is here.
SHARED = Path(__file__).resolve().parents[3] / "shared" / "sweep-configs"
GOOD = sorted(p for p in SHARED.glob("*.yaml") if not p.name.startswith("bad_"))
BAD = sorted(SHARED.glob("bad_*.yaml"))

BASE: dict[str, Any] = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "uniform", "min": 0.001, "max": 0.1},
        "opt": {"values": ["adam", "sgd"]},
    },
}


def load(name: str) -> SweepConfig:
    return normalize(parse_text((SHARED / name).read_text()))


def problems_of(config: object) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        normalize(config)
    return caught.value.problems


def with_changes(changes: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """BASE with top-level keys replaced or removed."""
    config = copy.deepcopy(BASE) | copy.deepcopy(changes)
    for key in drop:
        del config[key]
    return config


def with_param(spec: Any, name: str = "x") -> dict[str, Any]:
    return with_changes({"parameters": {name: spec}})


def test_it_finds_the_shared_configs() -> None:
    assert len(GOOD) >= 10 and len(BAD) >= 4


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_it_accepts_every_good_shared_config(path: Path) -> None:
    config = normalize(parse_text(path.read_text()))
    assert config.parameters


@pytest.mark.parametrize("name", ["01_grid_values_only.yaml", "19_grid_structured_values.yaml"])
def test_it_counts_twelve_grid_points(name: str) -> None:
    config = load(name)
    points = distributions.grid_points(config.parameters)
    assert len(points) == distributions.space_size(config.parameters) == 12
    assert len({distributions.point_key(p) for p in points}) == 12


def test_it_keeps_constants_out_of_the_grid_size() -> None:
    points = distributions.grid_points(load("01_grid_values_only.yaml").parameters)
    assert all(point["epochs"] == 10 for point in points)


def test_it_reads_nested_parameters() -> None:
    config = load("11_random_nested_parameters.yaml")
    assert [p.name for p in config.parameters] == [
        "batch_size",
        "optimizer/name",
        "optimizer/lr",
        "optimizer/betas/beta1",
        "optimizer/betas/beta2",
    ]
    assert config.parameters[3].path == ("optimizer", "betas", "beta1")
    assert [p.distribution for p in config.parameters][2:] == [
        "log_uniform_values",
        "uniform",
        "constant",
    ]


def test_it_computes_hyperband_bands_as_wandb() -> None:
    early = load("07_random_hyperband_max_iter.yaml").early_terminate
    assert early is not None and early.type == "hyperband"
    assert early.options == {"max_iter": 27, "s": 2, "eta": 3, "strict": True}
    assert hyperband_bands(early.options) == [3, 9]
    assert hyperband_bands({"min_iter": 2, "eta": 3}, count=4) == [2, 6, 18, 54]


# Each bad shared config, the path of its fault and words its message must hold.
# bad_01 (a grid over uniform) is W&B's refusal; we discretize it instead (see
# test_config_warnings.py), so it is the one bad shared config that we accept.
ACCEPTED_BAD = "bad_01_grid_with_continuous_uniform.yaml"
BAD_FAULTS = {
    "bad_02_bayes_without_metric.yaml": ("metric", ["bayes", "metric"]),
    "bad_03_min_not_less_than_max.yaml": ("parameters.learning_rate.max", ["min"]),
    "bad_04_probabilities_do_not_sum_to_one.yaml": ("parameters.optimizer", ["sum to 1"]),
}


@pytest.mark.parametrize("path", [p for p in BAD if p.name != ACCEPTED_BAD], ids=lambda p: p.name)
def test_it_rejects_every_bad_shared_config(path: Path) -> None:
    assert path.name in BAD_FAULTS, "say what fault this config has"
    where, words = BAD_FAULTS[path.name]
    with pytest.raises(ConfigError) as caught:
        load(path.name)
    text = str(caught.value)
    assert where in text
    assert all(word in text for word in words), text


REJECTIONS = [
    # (id, config, path, words in the message)
    (
        "grid-empty-q-uniform",
        with_changes(
            {
                "method": "grid",
                "parameters": {"a": {"distribution": "q_uniform", "min": 1.0, "max": 1.0}},
            }
        ),
        "parameters.a",
        ["numpy.arange", "value: 1.0"],
    ),
    (
        "grid-probabilities",
        with_changes(
            {"method": "grid", "parameters": {"o": {"values": [1, 2], "probabilities": [0.5, 0.5]}}}
        ),
        "parameters.o",
        ["probabilities"],
    ),
    ("bayes-no-metric", with_changes({"method": "bayes"}, drop=("metric",)), "metric", ["bayes"]),
    (
        "bayes-constants",
        with_changes({"method": "bayes", "parameters": {"a": {"value": 1}}}),
        "parameters",
        ["varies"],
    ),
    ("min-above-max", with_param({"min": 0.1, "max": 0.01}), "parameters.x.max", ["min (0.1)"]),
    (
        "values-log-at-zero",
        with_param({"distribution": "log_uniform_values", "min": -9.2, "max": -2.3}),
        "parameters.x.min",
        ["greater than 0", "natural logs write log_uniform"],
    ),
    ("empty-values", with_param({"values": []}), "parameters.x.values", ["empty"]),
    ("values-not-list", with_param({"values": 3}), "parameters.x.values", ["list"]),
    (
        "probabilities-sum",
        with_param({"values": [1, 2, 3], "probabilities": [0.5, 0.3, 0.1]}),
        "parameters.x.probabilities",
        ["sum to 1", "0.9"],
    ),
    (
        "probabilities-count",
        with_param({"values": [1, 2], "probabilities": [0.2, 0.3, 0.5]}),
        "parameters.x.probabilities",
        ["one per value"],
    ),
    (
        "probabilities-negative",
        with_param({"values": [1, 2], "probabilities": [1.5, -0.5]}),
        "parameters.x.probabilities[1]",
        ["0 or more"],
    ),
    *[
        (
            f"{kind}-min-0",
            with_param({"distribution": kind, "min": 0, "max": 1}),
            "parameters.x.min",
            ["greater than 0"],
        )
        for kind in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values")
    ],
    (
        "value-and-values",
        with_param({"value": 1, "values": [1]}),
        "parameters.x",
        ["value and values"],
    ),
    (
        "hyperband-max-iter-without-s",
        with_changes({"early_terminate": {"type": "hyperband", "max_iter": 27}}),
        "early_terminate.s",
        ["max_iter"],
    ),
    (
        "hyperband-no-iter",
        with_changes({"early_terminate": {"type": "hyperband", "eta": 2}}),
        "early_terminate",
        ["min_iter", "max_iter"],
    ),
    (
        "hyperband-eta-1",
        with_changes({"early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 1}}),
        "early_terminate.eta",
        ["greater than 1"],
    ),
    (
        "hyperband-no-band",
        with_changes({"early_terminate": {"type": "hyperband", "max_iter": 2, "s": 2}}),
        "early_terminate.max_iter",
        ["no band"],
    ),
    (
        "early-terminate-type",
        with_changes({"early_terminate": {"type": "asha"}}),
        "early_terminate.type",
        ["hyperband, median, successive_halving"],
    ),
    (
        "early-terminate-without-metric",
        with_changes({"early_terminate": {"type": "median"}}, drop=("metric",)),
        "early_terminate",
        ["metric"],
    ),
    (
        "median-negative",
        with_changes({"early_terminate": {"type": "median", "n_warmup_steps": -1}}),
        "early_terminate.n_warmup_steps",
        ["0 or more"],
    ),
    (
        "halving-reduction-1",
        with_changes({"early_terminate": {"type": "successive_halving", "reduction_factor": 1}}),
        "early_terminate.reduction_factor",
        ["2 or more"],
    ),
    (
        "unknown-distribution",
        with_param({"distribution": "gamma", "min": 1, "max": 2}),
        "parameters.x.distribution",
        ["'gamma'", "known: constant, categorical", "q_beta"],
    ),
    ("unknown-top-key", with_changes({"metrics": []}), "metrics", ["allowed at the top level"]),
    (
        "unknown-param-key",
        with_param({"distribution": "uniform", "min": 0, "max": 1, "mu": 2}),
        "parameters.x.mu",
        ["allowed: distribution, min, max"],
    ),
    (
        "probabilities-with-categorical",
        with_param({"distribution": "categorical", "values": [1], "probabilities": [1]}),
        "parameters.x.probabilities",
        ["allowed: distribution, values"],
    ),
    (
        "unknown-metric-key",
        with_changes({"metric": {"name": "loss", "direction": "min"}}),
        "metric.direction",
        ["allowed here: name, goal"],
    ),
    (
        "unknown-early-key",
        with_changes({"early_terminate": {"type": "hyperband", "min_iter": 1, "max_t": 3}}),
        "early_terminate.max_t",
        ["allowed here: type, min_iter"],
    ),
    (
        "unknown-optuna-key",
        with_changes({"method": "bayes", "optuna": {"sampler": "tpe", "n_trials": 3}}),
        "optuna.n_trials",
        ["allowed here: sampler"],
    ),
    (
        "unknown-nested-key",
        with_param({"parameters": {"lr": {"value": 1}}, "value": 2}),
        "parameters.x.value",
        ["beside parameters"],
    ),
    ("unknown-method", with_changes({"method": "hyperopt"}), "method", ["grid, random, bayes"]),
    ("custom-method", with_changes({"method": "custom"}), "method", ["scheduler"]),
    ("no-method", with_changes({}, drop=("method",)), "method", ["required"]),
    ("no-parameters", with_changes({}, drop=("parameters",)), "parameters", ["required"]),
    ("empty-parameters", with_changes({"parameters": {}}), "parameters", ["at least one"]),
    ("run-cap-0", with_changes({"run_cap": 0}), "run_cap", ["1 or more"]),
    ("run-cap-float", with_changes({"run_cap": 2.5}), "run_cap", ["integer"]),
    ("run-cap-bool", with_changes({"run_cap": True}), "run_cap", ["boolean"]),
    ("run-cap-text", with_changes({"run_cap": "ten"}), "run_cap", ["integer"]),
    *[
        (
            f"{kind}-sigma-{sigma}",
            with_param({"distribution": kind, "sigma": sigma}),
            "parameters.x.sigma",
            ["greater than 0"],
        )
        for kind in ("normal", "q_normal", "log_normal", "q_log_normal")
        for sigma in (0, -1.0)
    ],
    *[
        (
            f"{kind}-{key}-negative",
            with_param({"distribution": kind, key: -0.5}),
            f"parameters.x.{key}",
            ["greater than 0"],
        )
        for kind in ("beta", "q_beta")
        for key in ("a", "b")
    ],
    *[
        (
            f"{kind}-q-0",
            with_param({"distribution": kind, "min": 1, "max": 5, "q": 0}),
            "parameters.x.q",
            ["greater than 0"],
        )
        for kind in ("q_uniform", "q_log_uniform", "q_log_uniform_values")
    ],
    (
        "string-bound",
        yaml.safe_load("method: random\nparameters:\n  lr:\n    min: 1e-5\n    max: 0.1\n"),
        "parameters.lr.min",
        ["write it as 1.0e-5"],
    ),
    (
        "string-bound-positive-exponent",
        with_param({"distribution": "uniform", "min": 0, "max": "1e3"}),
        "parameters.x.max",
        ["write it as 1.0e+3"],
    ),
    ("boolean-bound", with_param({"min": True, "max": 3}), "parameters.x.min", ["boolean"]),
    (
        "boolean-q",
        with_param({"distribution": "q_normal", "q": False}),
        "parameters.x.q",
        ["boolean"],
    ),
    (
        "boolean-target",
        with_changes({"metric": {"name": "acc", "target": True}}),
        "metric.target",
        ["boolean"],
    ),
    (
        "int-uniform-float-bound",
        with_param({"distribution": "int_uniform", "min": 0.5, "max": 3}),
        "parameters.x.min",
        ["integer"],
    ),
    (
        "log-uniform-overflow",
        with_param({"distribution": "log_uniform", "min": 0.0001, "max": 1000}),
        "parameters.x.max",
        ["natural logs", "log_uniform_values"],
    ),
    (
        "optuna-on-random",
        with_changes({"optuna": {"sampler": "tpe"}}),
        "optuna",
        ["bayes"],
    ),
    (
        "optuna-sampler",
        with_changes({"method": "bayes", "optuna": {"sampler": "nsga2"}}),
        "optuna.sampler",
        ["auto, tpe, gp, cmaes, qmc, random"],
    ),
    (
        "without-replacement-continuous",
        with_changes({"without_replacement": True}),
        "without_replacement",
        ["parameters.lr", "uniform"],
    ),
    (
        "without-replacement-on-bayes",
        with_changes({"method": "bayes", "without_replacement": True}),
        "without_replacement",
        ["random"],
    ),
    (
        "metric-list-target",
        with_changes({"metric": [{"name": "a", "goal": "minimize", "target": 1.0}, {"name": "b"}]}),
        "metric[0].target",
        ["single metric"],
    ),
    (
        "metric-list-twice",
        with_changes({"metric": [{"name": "a"}, {"name": "a"}]}),
        "metric[1].name",
        ["twice"],
    ),
    (
        "multi-objective-early-terminate",
        with_changes(
            {"metric": [{"name": "a"}, {"name": "b"}], "early_terminate": {"type": "median"}}
        ),
        "early_terminate",
        ["single metric"],
    ),
    (
        "metric-goal",
        with_changes({"metric": {"name": "a", "goal": "max"}}),
        "metric.goal",
        ["maximize"],
    ),
    ("metric-no-name", with_changes({"metric": {"goal": "maximize"}}), "metric.name", ["required"]),
    (
        "impute",
        with_changes({"metric": {"name": "a", "impute": "zero"}}),
        "metric.impute",
        ["worst"],
    ),
    ("bad-name", with_param({"value": 1}, name="a b"), "parameters.a b", ["A-Za-z"]),
    (
        "nested-path",
        with_param({"parameters": {"lr": {"min": 0.1, "max": 0.01}}}, name="optimizer"),
        "parameters.optimizer.parameters.lr.max",
        ["greater than min (0.1)"],
    ),
    ("no-distribution", with_param({"min": 1}), "parameters.x", ["cannot tell the distribution"]),
    ("not-json", with_param({"values": [{1, 2}]}), "parameters.x.values[0]", ["JSON"]),
    ("command-items", with_changes({"command": ["python", 3]}), "command[1]", ["string"]),
    ("name-type", with_changes({"name": 3}), "name", ["string"]),
]


@pytest.mark.parametrize(
    ("config", "path", "words"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS]
)
def test_it_rejects(config: dict[str, Any], path: str, words: list[str]) -> None:
    problems = problems_of(config)
    messages = [message for where, message in problems if where == path]
    assert messages, problems
    assert any(all(word in m for word in words) for m in messages), messages


def test_it_lists_every_problem_not_just_the_first() -> None:
    config = {
        "method": "grid",
        "parameters": {"lr": {"min": 0.1, "max": 0.01}, "opt": {"values": []}},
        "run_cap": 0,
        "colour": "blue",
    }
    paths = [path for path, _ in problems_of(config)]
    assert {"parameters.lr.max", "parameters.opt.values", "run_cap", "colour"} <= set(paths)


def test_it_joins_problems_as_path_and_message_lines() -> None:
    error = ConfigError([("parameters.lr.max", "must be greater than min (0.1)"), ("", "oops")])
    assert str(error) == "parameters.lr.max: must be greater than min (0.1)\noops"
    assert isinstance(error, ValueError)


def test_it_refuses_a_config_that_is_not_a_mapping() -> None:
    assert problems_of(["method", "grid"])[0][0] == ""


@pytest.mark.parametrize("spec", [{"min": 0, "max": 0.5}, {"min": 0.5, "max": 3}])
def test_it_refuses_mixed_integer_and_float_bounds_as_ambiguous(spec: dict[str, Any]) -> None:
    # W&B's schema quietly takes these as uniform; we ask which was meant.
    problems = problems_of(with_param(spec))
    assert any("ambiguous" in message and "0.0" in message for _, message in problems)


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ({"values": [1, 2]}, "categorical"),
        ({"values": [1, 2], "probabilities": [0.3, 0.7]}, "categorical_w_probabilities"),
        ({"min": 1, "max": 5}, "int_uniform"),
        ({"min": 0.1, "max": 1.0}, "uniform"),
        ({"min": 1.0, "max": 5.0}, "uniform"),
        ({"value": 3}, "constant"),
        ({"value": None}, "constant"),
        ({"distribution": "uniform", "min": 0, "max": 1}, "uniform"),
    ],
)
def test_it_infers_the_distribution_as_wandb(spec: dict[str, Any], kind: str) -> None:
    (param,) = normalize(with_param(spec)).parameters
    assert param.distribution == kind


def minimal_spec(kind: str) -> dict[str, Any]:
    """The fewest settings a `kind` parameter needs."""
    if kind == "constant":
        return {"distribution": kind, "value": 1}
    if kind == "categorical":
        return {"distribution": kind, "values": [1]}
    if kind == "categorical_w_probabilities":
        return {"distribution": kind, "values": [1, 2], "probabilities": [0.5, 0.5]}
    if "uniform" in kind:
        return {"distribution": kind, "min": 1, "max": 2}
    return {"distribution": kind}


@pytest.mark.parametrize("kind", DISTRIBUTIONS)
def test_it_accepts_every_distribution(kind: str) -> None:
    (param,) = normalize(with_param(minimal_spec(kind))).parameters
    assert param.distribution == kind


def test_it_fills_distribution_defaults_as_wandb() -> None:
    config = normalize(
        with_changes(
            {
                "parameters": {
                    "n": {"distribution": "q_normal"},
                    "b": {"distribution": "q_beta"},
                    "u": {"distribution": "q_uniform", "min": 0, "max": 10},
                }
            }
        )
    )
    n, b, u = config.parameters
    assert (n.mu, n.sigma, n.q) == (0.0, 1.0, 1.0)
    assert (b.a, b.b, b.q) == (1.0, 1.0, 1.0)
    # W&B's schema default for q is the float 1.0, so these give floats.
    assert isinstance(u.q, float)


def test_it_fills_top_level_defaults() -> None:
    config = normalize(with_changes({}, drop=("metric",)))
    assert config.metrics == ()
    assert (config.impute, config.impute_while_running) == ("worst", "false")
    assert config.command == DEFAULT_COMMAND
    assert (config.run_cap, config.early_terminate, config.program, config.name) == (None,) * 4
    assert (config.optuna, config.without_replacement, config.ignored) == ({}, False, ())


def test_it_fills_metric_defaults_and_reads_yaml_false() -> None:
    config = normalize(
        with_changes({"metric": {"name": "acc", "target": 0.9, "impute_while_running": False}})
    )
    (metric,) = config.metrics
    assert (metric.name, metric.goal, metric.target) == ("acc", "minimize", 0.9)
    assert config.impute_while_running == "false"
    assert not config.multi_objective


@pytest.mark.parametrize(
    ("spec", "options"),
    [
        ({"type": "hyperband", "min_iter": 3}, {"min_iter": 3, "eta": 3, "strict": True}),
        (
            {"type": "median"},
            {"n_startup_trials": 5, "n_warmup_steps": 0, "interval_steps": 1},
        ),
        (
            {"type": "successive_halving", "reduction_factor": 4},
            {"min_resource": 1, "reduction_factor": 4, "min_early_stopping_rate": 0},
        ),
    ],
)
def test_it_fills_early_termination_defaults(spec: dict[str, Any], options: dict[str, Any]) -> None:
    early = normalize(with_changes({"early_terminate": spec})).early_terminate
    assert early is not None
    assert (early.type, early.options) == (spec["type"], options)


def test_it_lists_keys_that_mean_nothing_here() -> None:
    ignored = {
        "entity": "me",
        "controller": {"type": "local"},
        "job": "j",
        "image_uri": "x",
        "apiVersion": "v1",
        "kind": "sweep",
    }
    config = normalize(with_changes(ignored))
    assert config.ignored == tuple(ignored)
    assert "entity" not in config.to_dict()


def test_it_accepts_the_fixed_yaml_spelling_of_1e_5() -> None:
    text = "method: random\nparameters:\n  lr:\n    min: 1.0e-5\n    max: 1.0e-1\n"
    (param,) = normalize(parse_text(text)).parameters
    assert (param.distribution, param.min, param.max) == ("uniform", 1e-5, 0.1)


@pytest.mark.parametrize("method", ["grid", "random", "bayes"])
def test_it_accepts_several_metrics(method: str) -> None:
    metric = [{"name": "loss", "goal": "minimize"}, {"name": "acc", "goal": "maximize"}]
    parameters = {"o": {"values": [1, 2]}}
    config = normalize(with_changes({"method": method, "metric": metric, "parameters": parameters}))
    assert config.multi_objective
    assert [(m.name, m.goal) for m in config.metrics] == [("loss", "minimize"), ("acc", "maximize")]


def test_it_normalizes_optuna_options() -> None:
    optuna = {
        "sampler": "tpe",
        "n_startup_trials": 4,
        "seed": 7,
        "options": {"multivariate": False},
    }
    config = normalize(with_changes({"method": "bayes", "optuna": optuna}))
    assert config.optuna == optuna
    config = normalize(with_changes({"method": "bayes", "optuna": {}}))
    assert config.optuna == {"sampler": "auto", "options": {}}


def test_it_accepts_without_replacement_over_a_discrete_space() -> None:
    parameters = {
        "a": {"values": [1, 2]},
        "b": {"min": 1, "max": 3},
        "c": {"distribution": "q_log_uniform_values", "min": 1, "max": 100, "q": 10},
        "d": {"value": 5},
    }
    config = normalize(with_changes({"without_replacement": True, "parameters": parameters}))
    assert config.without_replacement
    assert distributions.space_size(config.parameters) == 2 * 3 * 11


def test_it_refuses_a_grid_too_large_to_enumerate() -> None:
    config = with_changes({"method": "grid", "parameters": {"a": {"min": 0, "max": 10**6}}})
    assert problems_of(config)[0][0] == "parameters"


def test_it_parses_json_and_yaml() -> None:
    as_json = json.dumps(BASE)
    assert parse_text(as_json) == BASE
    assert parse_text(yaml.safe_dump(BASE)) == BASE


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("method: random\nparameters:\n  lr: [1, 2\n", "line 4, column 1"),
        ("method: random\n  parameters: 1\n", "line 2, column 13"),
        ('{"method": "grid",\n "parameters": {,}}', "line 2, column 17"),
    ],
)
def test_it_reports_syntax_errors_with_line_and_column(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_text(text)
    assert str(caught.value).startswith(where)


def round_trip(config: SweepConfig) -> SweepConfig:
    stored = json.loads(json.dumps(config.to_dict()))
    return SweepConfig.from_dict(stored)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_it_round_trips_shared_configs_through_json(path: Path) -> None:
    config = normalize(parse_text(path.read_text()))
    assert round_trip(config) == config


def test_it_round_trips_every_field() -> None:
    config = normalize(
        {
            "method": "bayes",
            "metric": [{"name": "loss"}, {"name": "acc", "goal": "maximize"}],
            "parameters": {
                "a": {"value": None},
                "b": {"values": [[1, 2], {"k": True}, None], "probabilities": [0.2, 0.3, 0.5]},
                "c": {"parameters": {"d": {"distribution": "q_beta", "a": 2, "q": 0.05}}},
                "e": {"distribution": "q_uniform", "min": 0, "max": 100, "q": 5},
            },
            "run_cap": 9,
            "command": ["${env}", "python", "${args_json_file}"],
            "program": "train.py",
            "name": "n",
            "description": "d",
            "project": "p",
            "entity": "me",
            "optuna": {"sampler": "gp", "seed": 3},
        }
    )
    again = round_trip(config)
    assert again == config
    assert again.to_dict() == config.to_dict()
    assert isinstance(again.parameters[-1].q, int)
    assert again.parameters[1].values == ([1, 2], {"k": True}, None)


def test_it_stores_early_termination_as_type_and_options() -> None:
    config = load("07_random_hyperband_max_iter.yaml")
    stored = config.to_dict()["early_terminate"]
    assert stored == {
        "type": "hyperband",
        "options": {"max_iter": 27, "s": 2, "eta": 3, "strict": True},
    }
    assert round_trip(config).early_terminate == config.early_terminate
