"""Standard test functions for optimizers, with their known optima."""

from __future__ import annotations

import math

import numpy as np

BRANIN_OPTIMUM = 0.397887
HARTMANN6_OPTIMUM = -3.32237

_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def branin(x1: float, x2: float) -> float:
    b, c = 5.1 / (4 * math.pi**2), 5 / math.pi
    return (x2 - b * x1**2 + c * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(x1) + 10


def hartmann6(*x: float) -> float:
    point = np.array(x)
    return float(-np.sum(_ALPHA * np.exp(-np.sum(_A * (point - _P) ** 2, axis=1))))


BRANIN_CONFIG = {
    "metric": {"name": "value", "goal": "minimize"},
    "parameters": {
        "x1": {"min": -5.0, "max": 10.0},
        "x2": {"min": 0.0, "max": 15.0},
    },
}
HARTMANN6_CONFIG = {
    "metric": {"name": "value", "goal": "minimize"},
    "parameters": {f"x{i}": {"min": 0.0, "max": 1.0} for i in range(1, 7)},
}
OBJECTIVES = {
    "branin": (branin, BRANIN_CONFIG, ["x1", "x2"]),
    "hartmann6": (hartmann6, HARTMANN6_CONFIG, [f"x{i}" for i in range(1, 7)]),
}


def evaluate(name: str, params: dict[str, float]) -> float:
    function, _, names = OBJECTIVES[name]
    return function(*(params[n] for n in names))
