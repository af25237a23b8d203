from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeps.config import Param, normalize
from sweeps.distributions import (
    discrete_values,
    grid_points,
    in_support,
    is_discrete,
    nest,
    point_key,
    sample,
    sample_point,
    space_size,
)

# Bounded, and no example database left behind in the working tree.
CHECK = settings(max_examples=60, deadline=None, database=None)
N = 20_000


def param_of(spec: dict[str, Any], method: str = "random") -> Param:
    """The Param that normalize makes of one parameter spec."""
    (param,) = normalize({"method": method, "parameters": {"x": spec}}).parameters
    return param


def samples(param: Param, n: int = N, seed: int = 0) -> list[Any]:
    rng = np.random.default_rng(seed)
    return [sample(param, rng) for _ in range(n)]


# -- strategies for valid parameter settings -----------------------------------------------

# Valid text holds no NUL: configs refuse it, as PostgreSQL cannot store it.
text = st.text(st.characters(exclude_characters="\x00"), max_size=4)
plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-100, 100)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
qs = st.integers(1, 20) | st.floats(0.01, 10)


def interval(low: float, high: float, width: tuple[float, float]) -> st.SearchStrategy[Any]:
    """(min, max) with min in [low, high] and max - min in `width`."""
    return st.tuples(st.floats(low, high), st.floats(*width)).map(lambda t: (t[0], t[0] + t[1]))


def ranged(kind: str, bounds: st.SearchStrategy[Any], q: bool = False) -> st.SearchStrategy[Any]:
    spec = st.builds(lambda b: {"distribution": kind, "min": b[0], "max": b[1]}, bounds)
    return st.builds(lambda s, step: s | {"q": step}, spec, qs) if q else spec


def shaped(kind: str, **keys: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries({"distribution": st.just(kind), **keys})


def weighted(values: list[Any], weights: list[float]) -> dict[str, Any]:
    total = sum(weights)
    return {"values": values, "probabilities": [w / total for w in weights]}


ints = st.tuples(st.integers(-1000, 1000), st.integers(1, 1000)).map(lambda t: (t[0], t[0] + t[1]))
logs = interval(-10, 5, (0.01, 6))
values_bounds = st.tuples(st.floats(1e-6, 100), st.floats(1.001, 1e4)).map(
    lambda t: (t[0], t[0] * t[1])
)
mus, sigmas = st.floats(-100, 100), st.floats(0.01, 100)
log_mus, log_sigmas = st.floats(-3, 3), st.floats(0.01, 2)
shapes = st.floats(0.05, 20)

SPECS: dict[str, st.SearchStrategy[Any]] = {
    "constant": st.builds(lambda v: {"value": v}, plain),
    "categorical": st.builds(lambda v: {"values": v}, st.lists(plain, min_size=1, max_size=5)),
    "categorical_w_probabilities": st.integers(1, 5).flatmap(
        lambda n: st.builds(
            weighted,
            st.lists(plain, min_size=n, max_size=n),
            st.lists(st.floats(0, 1), min_size=n, max_size=n).filter(lambda w: max(w) > 0.01),
        )
    ),
    "int_uniform": st.builds(lambda b: {"min": b[0], "max": b[1]}, ints),
    "uniform": ranged("uniform", interval(-1e3, 1e3, (1e-3, 1e3))),
    "q_uniform": ranged("q_uniform", interval(-1e3, 1e3, (1e-3, 1e3)) | ints, q=True),
    "log_uniform": ranged("log_uniform", logs),
    "log_uniform_values": ranged("log_uniform_values", values_bounds),
    "q_log_uniform": ranged("q_log_uniform", interval(-3, 3, (0.01, 4)), q=True),
    "q_log_uniform_values": ranged("q_log_uniform_values", values_bounds, q=True),
    "inv_log_uniform": ranged("inv_log_uniform", logs),
    "inv_log_uniform_values": ranged("inv_log_uniform_values", values_bounds),
    "normal": shaped("normal", mu=mus, sigma=sigmas),
    "q_normal": shaped("q_normal", mu=mus, sigma=sigmas, q=qs),
    "log_normal": shaped("log_normal", mu=log_mus, sigma=log_sigmas),
    "q_log_normal": shaped("q_log_normal", mu=log_mus, sigma=log_sigmas, q=qs),
    "beta": shaped("beta", a=shapes, b=shapes),
    "q_beta": shaped("q_beta", a=shapes, b=shapes, q=st.integers(1, 2) | st.floats(0.01, 1)),
}


def test_it_has_a_strategy_for_every_distribution() -> None:
    from sweeps.config import DISTRIBUTIONS

    assert set(SPECS) == set(DISTRIBUTIONS)


def expected_type(param: Param) -> type | None:
    """The Python type W&B's sampling gives, or None when it is the config's own value."""
    kind = param.distribution
    if kind in ("constant", "categorical", "categorical_w_probabilities"):
        return None
    if kind == "int_uniform":
        return int
    if kind.startswith("q_"):
        return int if isinstance(param.q, int) else float
    return float


# -- every sample lies in the support ------------------------------------------------------


@pytest.mark.parametrize("kind", list(SPECS))
@CHECK
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_it_samples_inside_the_support(kind: str, data: st.DataObject, seed: int) -> None:
    param = param_of(data.draw(SPECS[kind]))
    assert param.distribution == kind
    wanted = expected_type(param)
    for value in samples(param, n=25, seed=seed):
        assert in_support(param, value), (param, value)
        if wanted is not None:
            assert type(value) is wanted, (param, value)


@pytest.mark.parametrize("kind", list(SPECS))
@CHECK
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_it_repeats_the_sequence_for_the_same_seed(
    kind: str, data: st.DataObject, seed: int
) -> None:
    param = param_of(data.draw(SPECS[kind]))
    first = [point_key({"x": v}) for v in samples(param, n=5, seed=seed)]
    assert first == [point_key({"x": v}) for v in samples(param, n=5, seed=seed)]


@pytest.mark.parametrize("kind", ["uniform", "int_uniform", "beta"])
@CHECK
@given(data=st.data())
def test_it_refuses_values_outside_the_support(kind: str, data: st.DataObject) -> None:
    param = param_of(data.draw(SPECS[kind]))
    high = 1.0 if kind == "beta" else float(param.max or 0)
    assert not in_support(param, high + 1)
    assert not in_support(param, "0.5")
    assert not in_support(param, True)


@CHECK
@given(spec=SPECS["q_uniform"])
def test_it_lists_wandbs_grid_for_q_uniform(spec: dict[str, Any]) -> None:
    param = param_of(spec)
    values = discrete_values(param)
    assert values == np.arange(param.min, param.max, param.q).tolist()
    assert len(values) == space_size([param])
    assert all(in_support(param, v) for v in values)


# Lattices small enough to list: at most about 10**5 multiples of q.
SMALL_LATTICES = {
    "q_log_uniform": SPECS["q_log_uniform"],
    "q_log_uniform_values": ranged(
        "q_log_uniform_values",
        st.tuples(st.floats(0.01, 10), st.floats(1.001, 100)).map(lambda t: (t[0], t[0] * t[1])),
        q=True,
    ),
    "q_beta": SPECS["q_beta"],
}


@pytest.mark.parametrize("kind", list(SMALL_LATTICES))
@CHECK
@given(data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_it_lists_every_value_a_quantized_kind_can_take(
    kind: str, data: st.DataObject, seed: int
) -> None:
    param = param_of(data.draw(SMALL_LATTICES[kind]))
    listed = {point_key({"x": v}) for v in discrete_values(param)}
    assert len(listed) == space_size([param])
    for value in samples(param, n=25, seed=seed):
        assert point_key({"x": value}) in listed


# -- W&B's formulas, checked on the mean of many samples -----------------------------------


def assert_mean(values: list[float], mean: float, variance: float) -> None:
    standard_error = math.sqrt(variance / len(values))
    assert abs(np.mean(values) - mean) < 4 * standard_error, (np.mean(values), mean)


def test_normal_has_mean_mu() -> None:
    param = param_of({"distribution": "normal", "mu": 1.5, "sigma": 2.0})
    assert_mean(samples(param), 1.5, 4.0)


def log_uniform_moments(low: float, high: float) -> tuple[float, float]:
    """Mean and variance of exp(U), U uniform on [low, high]."""
    mean = (math.exp(high) - math.exp(low)) / (high - low)
    square = (math.exp(2 * high) - math.exp(2 * low)) / (2 * (high - low))
    return mean, square - mean**2


def test_log_uniform_bounds_are_natural_logs() -> None:
    param = param_of({"distribution": "log_uniform", "min": -2, "max": 1})
    values = samples(param)
    assert math.exp(-2) <= min(values) and max(values) <= math.e
    assert_mean(values, *log_uniform_moments(-2, 1))


@pytest.mark.parametrize("kind", ["log_uniform_values", "inv_log_uniform_values"])
def test_value_space_log_distributions_are_log_uniform_on_min_max(kind: str) -> None:
    # W&B's inv_log_uniform_values samples exp(-U), U on [-log max, -log min]: that is
    # log-uniform on [min, max] again, the same law as log_uniform_values.
    param = param_of({"distribution": kind, "min": 1e-3, "max": 1.0})
    values = samples(param)
    assert min(values) >= 1e-3 and max(values) <= 1.0
    assert_mean(values, *log_uniform_moments(math.log(1e-3), 0.0))


def test_inv_log_uniform_is_exp_of_minus_uniform() -> None:
    param = param_of({"distribution": "inv_log_uniform", "min": 0, "max": 3})
    values = samples(param)
    assert math.exp(-3) <= min(values) and max(values) <= 1.0
    assert_mean(values, *log_uniform_moments(-3, 0))


def test_beta_has_mean_a_over_a_plus_b() -> None:
    param = param_of({"distribution": "beta", "a": 2.0, "b": 5.0})
    assert_mean(samples(param), 2 / 7, 2 * 5 / (7**2 * 8))


def test_log_normal_has_mean_exp_mu_plus_half_sigma_squared() -> None:
    param = param_of({"distribution": "log_normal", "mu": 0.5, "sigma": 0.5})
    mean = math.exp(0.5 + 0.5**2 / 2)
    assert_mean(samples(param), mean, (math.exp(0.5**2) - 1) * mean**2)


def test_categorical_probabilities_set_the_frequencies() -> None:
    param = param_of({"values": ["a", "b", "c"], "probabilities": [0.2, 0.0, 0.8]})
    values = samples(param)
    assert "b" not in values
    share = values.count("a") / len(values)
    assert abs(share - 0.2) < 4 * math.sqrt(0.2 * 0.8 / len(values))


def test_categorical_keeps_the_types_of_its_values() -> None:
    choices = [[1, 2], {"flip": True}, None, False, 3, 3.0, "s"]
    param = param_of({"values": choices})
    seen = samples(param, n=500)
    for choice in choices:
        assert any(type(v) is type(choice) and v == choice for v in seen), choice
    first = next(v for v in seen if isinstance(v, list))
    first.append(99)
    assert param.values is not None and param.values[0] == [1, 2]


@pytest.mark.parametrize(
    ("q", "kind"),
    [(5, int), (0.5, float), (None, float)],
)
def test_quantized_results_are_ints_only_for_an_int_q(q: float | None, kind: type) -> None:
    spec: dict[str, Any] = {"distribution": "q_uniform", "min": 0, "max": 100}
    if q is not None:
        spec["q"] = q
    for value in samples(param_of(spec), n=50):
        assert type(value) is kind
        assert value % (q or 1) == 0


def test_quantized_uniform_rounds_half_to_even_and_may_pass_the_bounds() -> None:
    # round(r / q) * q over r in [0.5, 1.5]: W&B gives 0, 1 and 2 (0.5 rounds to 0).
    param = param_of({"distribution": "q_uniform", "min": 0.5, "max": 1.5, "q": 1})
    assert set(samples(param, n=2000)) <= {0, 1, 2}
    assert in_support(param, 2) and not in_support(param, 3)


def test_sample_point_is_keyed_by_name_and_reproducible() -> None:
    config = normalize(
        {
            "method": "random",
            "parameters": {
                "bs": {"values": [64, 128]},
                "optimizer": {"parameters": {"lr": {"min": 0.1, "max": 1.0}}},
            },
        }
    )
    first = sample_point(config.parameters, np.random.default_rng(3))
    assert list(first) == ["bs", "optimizer/lr"]
    assert first == sample_point(config.parameters, np.random.default_rng(3))


# -- grids ---------------------------------------------------------------------------------


def grid_of(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    return grid_points(normalize({"method": "grid", "parameters": parameters}).parameters)


def test_the_grid_varies_the_first_parameter_slowest() -> None:
    points = grid_of({"a": {"values": [1, 2]}, "b": {"values": ["x", "y", "z"]}, "c": {"value": 0}})
    assert [(p["a"], p["b"], p["c"]) for p in points] == [
        (1, "x", 0),
        (1, "y", 0),
        (1, "z", 0),
        (2, "x", 0),
        (2, "y", 0),
        (2, "z", 0),
    ]


def test_the_grid_follows_wandb_for_int_and_q_uniform() -> None:
    a = param_of({"min": 1, "max": 4}, "grid")
    assert discrete_values(a) == [1, 2, 3, 4]
    # grid_search.py: numpy.arange(min, max, q), so max itself is left out.
    q = param_of({"distribution": "q_uniform", "min": 100, "max": 1000, "q": 50}, "grid")
    assert discrete_values(q) == list(range(100, 1000, 50))
    assert space_size([a, q]) == len(grid_points([a, q])) == 4 * 18
    default_q = param_of({"distribution": "q_uniform", "min": 0, "max": 3}, "grid")
    assert discrete_values(default_q) == [0.0, 1.0, 2.0]
    assert all(in_support(q, v) for v in discrete_values(q))


def test_the_grid_counts_repeated_values_once() -> None:
    points = grid_of({"a": {"values": [1, 1, 1.0, True, [1], [1]]}})
    assert [p["a"] for p in points] == [1, 1.0, True, [1]]


def test_a_continuous_parameter_has_no_grid() -> None:
    param = param_of({"distribution": "normal"})
    assert not is_discrete(param)
    assert space_size([param_of({"values": [1, 2]}), param]) is None
    with pytest.raises(ValueError, match="continuous"):
        grid_points([param])


def test_an_empty_space_has_one_empty_point() -> None:
    assert grid_points([]) == [{}]
    assert space_size([]) == 1


# -- flat points ---------------------------------------------------------------------------


def test_nest_builds_nested_dicts_from_flat_names() -> None:
    flat = {"optimizer/lr": 0.1, "optimizer/betas/beta1": 0.9, "bs": 64}
    assert nest(flat) == {"optimizer": {"lr": 0.1, "betas": {"beta1": 0.9}}, "bs": 64}


def test_nest_keeps_dict_values_apart_from_groups() -> None:
    value = {"flip": True}
    nested = nest({"aug": value, "opt/lr": 1})
    assert nested == {"aug": {"flip": True}, "opt": {"lr": 1}}
    with pytest.raises(ValueError, match="both"):
        nest({"aug": value, "aug/x": 1})
    assert value == {"flip": True}


def test_point_key_is_canonical() -> None:
    assert point_key({"b": [1, {"y": 2, "x": 1}], "a": None}) == point_key(
        {"a": None, "b": [1, {"x": 1, "y": 2}]}
    )
    assert point_key({"a": 1}) != point_key({"a": 1.0}) != point_key({"a": True})


def test_a_decimal_step_samples_the_values_as_written() -> None:
    """q: 0.1 samples 0.3, not 0.30000000000000004 (the grid stays W&B's numpy.arange)."""
    param = param_of({"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.1})
    assert set(samples(param, n=200)) == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}

    logs = param_of({"distribution": "q_log_uniform_values", "min": 0.1, "max": 1.0, "q": 0.1})
    assert set(samples(logs, n=200)) <= set(discrete_values(logs))
    assert 0.3 in discrete_values(logs)
