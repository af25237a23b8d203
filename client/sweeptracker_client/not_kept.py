"""W&B's module-level calls for what the server does not keep: `wandb.watch`,
`wandb.save`, `wandb.log_artifact`, ... They act on the current run as W&B's do,
and work (warning once) without one too, since nothing is sent either way."""

from __future__ import annotations

from typing import Any

from sweeptracker_client import live_run, media


def watch(models: Any, *args: Any, **kwargs: Any) -> None:
    """W&B logs the model's gradients and parameters: not recorded here."""
    media.not_kept_call("watch")


def unwatch(models: Any = None) -> None:
    """Nothing is watched."""
    media.not_kept_call("watch")


def save(glob_str: str | None = None, *args: Any, **kwargs: Any) -> bool:
    """W&B uploads the files: not here; they stay where they are."""
    media.not_kept_call("save")
    return True


def log_artifact(
    artifact_or_path: Any, name: str | None = None, type: str | None = None, **kwargs: Any
) -> media.Artifact:
    """W&B stores the artifact: not here; returns it, stored nowhere."""
    run = live_run.current()
    if run is not None:
        return run.log_artifact(artifact_or_path, name, type, **kwargs)
    return media.artifact_of(artifact_or_path if name is None else name, type)


def use_artifact(artifact_or_name: Any, type: str | None = None, **kwargs: Any) -> media.Artifact:
    """An Artifact object; its files cannot be downloaded (artifacts are not stored)."""
    return media.artifact_of(artifact_or_name, type)


def log_model(path: Any, name: str | None = None, **kwargs: Any) -> None:
    """W&B stores the model as an artifact: not here."""
    media.warn_not_kept("Artifact")


def alert(title: str, text: str, level: Any = None, wait_duration: Any = None) -> None:
    """W&B sends the alert by mail or Slack: not here."""
    media.not_kept_call("alert")


def log_code(root: str | None = ".", name: str | None = None, **kwargs: Any) -> None:
    """W&B saves the code as an artifact: not here."""
    media.not_kept_call("log_code")
