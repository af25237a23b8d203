"""Both ways to run a sweep, written as W&B's docs write them (only the import differs).

    export SWEEPTRACKER_BASE_URL=http://localhost:8000 SWEEPTRACKER_API_KEY=...
    python examples/sweep_example.py [--trials 10] [--project sweep-example]

1. An agent: `wandb.sweep(config)` creates the sweep, `wandb.agent(sweep_id,
   function=train, count=N)` calls train() once per trial; its `wandb.init()` joins the
   trial's run and `wandb.config` holds the suggested parameters.
2. By hand: `SweepController(sweep_id).suggest()` gives the parameters as a mapping;
   `wandb.init(config=params)` joins that trial's run, and `wandb.finish()` ends the trial
   with the sweep metric taken from the run, as for an agent. Without a run,
   `controller.report(value)` tells the value instead.

The "model" is a made-up learning curve, so the example runs in seconds without a GPU.
"""

from __future__ import annotations

import argparse
import math
import random
from typing import Any

import sweeptracker_client as wandb
from sweeptracker_client import SweepController

# The specification's parameters. Its `log_uniform` with min 0.0001 would sample
# e^0.0001 to e^0.01 (W&B reads natural-log bounds: the server warns), so this says
# log_uniform_values; its `uniform` with `q` is q_uniform, written as such.
PARAMETERS: dict[str, Any] = {
    "learning_rate": {"distribution": "log_uniform_values", "min": 0.0001, "max": 0.01},
    "batch_size": {"values": [16, 32, 64, 128]},
    "optimizer": {"values": ["adam", "sgd", "rmsprop"]},
    "dropout": {"distribution": "q_uniform", "min": 0.0, "max": 0.5, "q": 0.1},
    "epochs": {"value": 20},
}
AGENT_SWEEP: dict[str, Any] = {
    "name": "example-agent",
    "method": "bayes",
    "metric": {"name": "best_accuracy", "goal": "maximize"},
    "parameters": PARAMETERS,
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "run_cap": 30,
}
MANUAL_SWEEP: dict[str, Any] = {**AGENT_SWEEP, "name": "example-controller", "method": "random"}


def validation_accuracy(config: Any, epoch: int) -> float:
    """A learning curve: best near lr 0.003 and dropout 0.2, with a little noise."""
    noise = random.Random(f"{config.learning_rate}-{config.dropout}-{epoch}").gauss(0, 0.005)
    fit = 0.95 - 0.08 * (math.log10(config.learning_rate) - math.log10(0.003)) ** 2
    fit -= (
        0.3 * (config.dropout - 0.2) ** 2
        + {"adam": 0, "sgd": 0.04, "rmsprop": 0.02}[config.optimizer]
    )
    fit -= abs(math.log2(config.batch_size) - 6) * 0.01
    return fit * (1 - 0.75 ** (epoch + 1)) + noise


def train(config: dict[str, Any] | None = None) -> None:
    """One training run: what a W&B training script does."""
    wandb.init(config=config)
    config = wandb.config
    best_accuracy = 0.0
    for epoch in range(config.epochs):
        accuracy = validation_accuracy(config, epoch)
        wandb.log({"epoch": epoch, "accuracy": accuracy, "loss": 1 - accuracy})
        best_accuracy = max(best_accuracy, accuracy)
    wandb.summary["best_accuracy"] = best_accuracy
    wandb.finish()


def with_an_agent(project: str, trials: int) -> str:
    sweep_id = wandb.sweep(AGENT_SWEEP, project=project)
    wandb.agent(sweep_id, function=train, count=trials)
    return sweep_id


def by_hand(project: str, trials: int) -> tuple[str, dict[str, Any] | None]:
    sweep_id = wandb.sweep(MANUAL_SWEEP, project=project)
    controller = SweepController(sweep_id)
    for _ in range(trials):
        params = controller.suggest()
        print(f"trial {params.number}: {dict(params)}")
        train(config=params)
    # A quick trial without a run: report() ends the latest suggestion.
    params = controller.suggest()
    controller.report(validation_accuracy(argparse.Namespace(**params), params["epochs"] - 1))
    best = controller.get_best_params()
    controller.close()
    return sweep_id, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10, help="trials per flow")
    parser.add_argument("--project", default="sweep-example")
    args = parser.parse_args()
    agent_sweep = with_an_agent(args.project, args.trials)
    manual_sweep, best = by_hand(args.project, args.trials)
    print(f"agent sweep: {agent_sweep}")
    print(f"controller sweep: {manual_sweep}; best params: {best}")


if __name__ == "__main__":
    main()
