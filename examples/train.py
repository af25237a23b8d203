"""A W&B-style training script: a small numpy MLP on a generated two-spirals data set.

It runs unchanged under wandb except for its import line. Alone:

    SWEEPTRACKER_PROJECT=spirals python examples/train.py

or as the `program` of a sweep (examples/sweep-*.yaml), where the agent's
suggested params arrive in `wandb.config`. It logs train_loss, val_loss and
val_accuracy once an epoch and stops early when the sweep prunes the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sweeptracker_client as wandb

DEFAULTS: dict[str, Any] = {
    "learning_rate": 0.01,
    "batch_size": 32,
    "epochs": 30,
    "optimizer": "adam",
    "weight_decay": 0.0,
    "model": {"hidden": 32, "layers": 2, "activation": "tanh"},
    # More points make each epoch slower: about 5 ms per 1,000 on one core.
    "points_per_arm": 1000,
    "seed": 0,
}

Array = np.ndarray


def make_spirals(n_per_arm: int, noise: float = 0.3, seed: int = 0) -> tuple[Array, Array]:
    """Two interleaved spiral arms, one per class: not separable by a straight line."""
    rng = np.random.default_rng(seed)
    turn = np.sqrt(rng.uniform(size=n_per_arm)) * 3 * np.pi
    arm = np.stack([turn * np.cos(turn), turn * np.sin(turn)], axis=1)
    x = np.concatenate([arm, -arm]) + rng.normal(scale=noise, size=(2 * n_per_arm, 2))
    y = np.concatenate([np.zeros(n_per_arm), np.ones(n_per_arm)])
    order = rng.permutation(len(x))
    # Scaled to about [-1, 1], where tanh and relu units start out useful.
    return x[order] / (3 * np.pi), y[order]


ACTIVATIONS: dict[str, tuple[Callable[[Array], Array], Callable[[Array], Array]]] = {
    # (the function, its derivative written in terms of its output)
    "tanh": (np.tanh, lambda out: 1.0 - out**2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda out: (out > 0).astype(float)),
}


class MLP:
    """A multi-layer perceptron with one logit out, trained on binary cross-entropy."""

    def __init__(self, sizes: list[int], activation: str, rng: np.random.Generator) -> None:
        self.act, self.act_grad = ACTIVATIONS[activation]
        # He/Glorot-style scaling keeps the first forward passes in a sane range.
        self.weights = [
            rng.normal(scale=np.sqrt(2.0 / (n_in + n_out)), size=(n_in, n_out))
            for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True)
        ]
        self.biases = [np.zeros(n_out) for n_out in sizes[1:]]

    def forward(self, x: Array) -> tuple[Array, list[Array]]:
        """The logits and every layer's output (the backward pass needs them)."""
        outputs = [x]
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            outputs.append(self.act(outputs[-1] @ w + b))
        return (outputs[-1] @ self.weights[-1] + self.biases[-1])[:, 0], outputs

    def gradients(self, x: Array, y: Array) -> tuple[float, list[Array]]:
        """The mean loss on a batch and its gradient for every weight and bias."""
        logits, outputs = self.forward(x)
        delta = (sigmoid(logits) - y)[:, None] / len(x)
        grads: list[Array] = []
        for layer in range(len(self.weights) - 1, -1, -1):
            grads = [outputs[layer].T @ delta, delta.sum(axis=0), *grads]
            if layer:
                delta = (delta @ self.weights[layer].T) * self.act_grad(outputs[layer])
        return bce(logits, y), grads

    @property
    def parameters(self) -> list[Array]:
        """Every weight and bias, in the order gradients() returns theirs."""
        return [p for pair in zip(self.weights, self.biases, strict=True) for p in pair]


def sigmoid(z: Array) -> Array:
    """1 / (1 + e^-z), written with tanh so that large |z| does not overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def bce(logits: Array, y: Array) -> float:
    """Binary cross-entropy from logits, stable for large ones."""
    return float(np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits)))))


class Optimizer:
    """SGD with momentum, or Adam; both with L2 weight decay."""

    def __init__(self, kind: str, lr: float, weight_decay: float, params: list[Array]) -> None:
        self.kind, self.lr, self.weight_decay = kind, lr, weight_decay
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params: list[Array], grads: list[Array]) -> None:
        """Update `params` in place from their gradients."""
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            g = g + self.weight_decay * p
            if self.kind == "sgd":
                self.m[i] = 0.9 * self.m[i] + g
                p -= self.lr * self.m[i]
                continue
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g**2
            m_hat = self.m[i] / (1 - 0.9**self.t)
            v_hat = self.v[i] / (1 - 0.999**self.t)
            p -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def train(
    config: Any, log: Callable[[dict[str, float]], None], should_stop: Callable[[], bool]
) -> None:
    """Train with `config` (a wandb-style config), logging one row an epoch."""
    x, y = make_spirals(int(config.points_per_arm))
    split = int(0.75 * len(x))
    x_train, y_train, x_val, y_val = x[:split], y[:split], x[split:], y[split:]
    # Item access for the nested part: wandb's config holds plain dicts there.
    model_config = config["model"]
    rng = np.random.default_rng(config.seed)
    sizes = [2, *[int(model_config["hidden"])] * int(model_config["layers"]), 1]
    model = MLP(sizes, model_config["activation"], rng)
    optimizer = Optimizer(
        config.optimizer, config.learning_rate, config.weight_decay, model.parameters
    )
    for epoch in range(config.epochs):
        order = rng.permutation(len(x_train))
        losses = []
        for start in range(0, len(order), config.batch_size):
            batch = order[start : start + config.batch_size]
            loss, grads = model.gradients(x_train[batch], y_train[batch])
            optimizer.step(model.parameters, grads)
            losses.append(loss)
        logits, _ = model.forward(x_val)
        log(
            {
                "epoch": epoch,
                "train_loss": float(np.mean(losses)),
                "val_loss": bce(logits, y_val),
                "val_accuracy": float(np.mean((logits > 0) == (y_val > 0.5))),
            }
        )
        if should_stop():
            print(f"Stopped early after epoch {epoch}: the sweep pruned this run.")
            return


def main() -> None:
    """Train once with wandb.config: the defaults, or what the sweep suggested."""
    run = wandb.init(project="spirals", config=DEFAULTS)
    # should_stop is SweepTracker's (the sweep pruned the run); under wandb it is absent.
    train(wandb.config, wandb.log, lambda: getattr(run, "should_stop", False))
    wandb.finish()


if __name__ == "__main__":
    main()
