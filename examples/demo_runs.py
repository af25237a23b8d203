"""Logistic regression on a generated data set, trained at a few learning rates.

`python3 tasks.py run` calls this against the demo server so that the demo
project has real curves, logged through the client as a user's script would.
"""

from __future__ import annotations

import numpy as np
import sweeptracker_client as st


def make_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 10))
    true_w = rng.normal(size=10)
    y = (x @ true_w + rng.normal(scale=1.0, size=2000) > 0).astype(float)
    return x, y


def train(lr: float, epochs: int, batch_size: int) -> None:
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


def main() -> None:
    if st.Api().runs("demo"):
        print("The demo project already has runs; leaving it as it is.")
        return
    for lr in (0.001, 0.01, 0.1, 1.0):
        train(lr, epochs=40, batch_size=64)
        print(f"Logged a demo run with lr={lr}.")


if __name__ == "__main__":
    main()
