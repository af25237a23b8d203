"""Logistic regression on a generated data set, trained at a few learning rates,
and a Bayesian sweep over train.py's MLP run by an agent.

`python3 tasks.py run` calls this against the demo server so that the demo
project has real curves and a real sweep, logged through the client as a
user's script would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import sweeptracker_client as st
import train

HERE = Path(__file__).resolve().parent
SWEEP_TRIALS = 15


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Points on either side of a random hyperplane, with noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 10))
    true_w = rng.normal(size=10)
    y = (x @ true_w + rng.normal(scale=1.0, size=2000) > 0).astype(float)
    return x, y


def train_logreg(lr: float, epochs: int, batch_size: int) -> None:
    """One demo run: logistic regression by minibatch gradient descent."""
    x, y = make_data()
    x_train, y_train, x_val, y_val = x[:1600], y[:1600], x[1600:], y[1600:]
    config = {"lr": lr, "epochs": epochs, "batch_size": batch_size, "model": "logreg"}
    with st.init(config=config, name=f"logreg-lr{lr:g}", tags=["demo", "logreg"]) as run:
        w = np.zeros(x.shape[1])
        rng = np.random.default_rng(1)
        for epoch in range(run.config.epochs):
            order = rng.permutation(len(x_train))
            for start in range(0, len(x_train), run.config.batch_size):
                idx = order[start : start + run.config.batch_size]
                p = 1 / (1 + np.exp(-x_train[idx] @ w))
                w -= run.config.lr * x_train[idx].T @ (p - y_train[idx]) / len(idx)
            p_val = 1 / (1 + np.exp(-x_val @ w))
            loss = -np.mean(y_val * np.log(p_val + 1e-9) + (1 - y_val) * np.log(1 - p_val + 1e-9))
            accuracy = np.mean((p_val > 0.5) == y_val)
            run.log({"epoch": epoch, "val_loss": float(loss), "val_accuracy": float(accuracy)})


def train_mlp() -> None:
    """One trial of the demo sweep: init() joins the run the agent was handed."""
    run = st.init(config=train.DEFAULTS)
    train.train(run.config, run.log, lambda: run.should_stop)


def main() -> None:
    """Log the demo runs and the demo sweep, unless the demo project has runs already."""
    if st.Api().runs("demo"):
        print("The demo project already has runs; leaving it as it is.")
        return
    for lr in (0.001, 0.01, 0.1, 1.0):
        train_logreg(lr, epochs=40, batch_size=64)
        print(f"Logged a demo run with lr={lr}.")
    sweep_id = st.sweep(HERE / "sweep-bayes.yaml", project="demo")
    st.agent(sweep_id, function=train_mlp, count=SWEEP_TRIALS)


if __name__ == "__main__":
    main()
