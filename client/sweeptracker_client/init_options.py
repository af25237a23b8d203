"""What init() was asked for: its arguments, over `settings=`, over W&B's environment;
and what it works out from them before a run exists (resume target, config, directory).

As W&B reads them: WANDB_PROJECT, WANDB_NAME, WANDB_NOTES, WANDB_TAGS (comma
separated), WANDB_RUN_GROUP, WANDB_JOB_TYPE, WANDB_MODE, WANDB_RUN_ID,
WANDB_RESUME and WANDB_DIR stand in for the arguments not given. WANDB_API_KEY
and WANDB_BASE_URL are never read: a W&B key must not reach this server.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import string
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from sweeptracker_client import settings as client_settings
from sweeptracker_client.api import Api, RunInfo
from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.mappings import Config, ConfigSource, merge
from sweeptracker_client.run_start import RESUME_MODES, check_run_id
from sweeptracker_client.values import to_wire

logger = logging.getLogger("sweeptracker_client")

MODES = ("online", "offline", "disabled")
# W&B's other names for the modes.
MODE_ALIASES = {"run": "online", "dryrun": "offline", "shared": "online"}
ENV = {
    "project": "WANDB_PROJECT",
    "name": "WANDB_NAME",
    "notes": "WANDB_NOTES",
    "tags": "WANDB_TAGS",
    "group": "WANDB_RUN_GROUP",
    "job_type": "WANDB_JOB_TYPE",
    "mode": "WANDB_MODE",
    "id": "WANDB_RUN_ID",
    "resume": "WANDB_RESUME",
    "dir": "WANDB_DIR",
}
# wandb.Settings fields that mean the same as an init() argument.
SETTINGS_FIELDS = {
    "project": "project",
    "entity": "entity",
    "run_name": "name",
    "run_notes": "notes",
    "run_tags": "tags",
    "run_group": "group",
    "run_job_type": "job_type",
    "mode": "mode",
    "run_id": "id",
    "resume": "resume",
    "root_dir": "dir",
}


class Settings:
    """W&B's `wandb.Settings(...)`: takes any field. Those naming an init() argument
    (project, entity, run_name, run_notes, run_tags, run_group, run_job_type,
    mode, run_id, resume, root_dir) count as that argument; the rest have no effect."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)

    def as_dict(self) -> dict[str, Any]:
        """The fields given."""
        return dict(self.__dict__)

    def __repr__(self) -> str:
        return f"Settings({self.__dict__!r})"


@dataclass
class InitOptions:
    """init()'s arguments once the fallbacks are applied."""

    project: str | None = None
    entity: str | None = None
    name: str | None = None
    notes: str | None = None
    tags: list[str] | None = None
    group: str | None = None
    job_type: str | None = None
    mode: str = "online"
    id: str | None = None
    resume: str | None = None
    dir: str | None = None

    @classmethod
    def resolve(
        cls, given: Mapping[str, Any], run_settings: Settings | Mapping[str, Any] | None = None
    ) -> InitOptions:
        """The options from init()'s arguments (None when not given), then `settings=`,
        then the W&B environment."""
        found: dict[str, Any] = {}
        extra = run_settings.as_dict() if isinstance(run_settings, Settings) else run_settings
        from_settings = {
            SETTINGS_FIELDS[k]: v for k, v in (extra or {}).items() if k in SETTINGS_FIELDS
        }
        for option in fields(cls):
            value = given.get(option.name)
            if value is None:
                value = from_settings.get(option.name)
            if value is None and option.name in ENV:
                value = os.environ.get(ENV[option.name]) or None
                if option.name == "tags" and value is not None:
                    value = [tag for tag in value.split(",") if tag]
            if value is not None:
                found[option.name] = value
        options = cls(**found)
        options.check()
        return options

    def check(self) -> None:
        """Normalize and check the values, with W&B's aliases."""
        mode = str(self.mode).lower()
        mode = MODE_ALIASES.get(mode, mode)
        if mode not in MODES:
            raise SweepTrackerError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}.")
        self.mode = mode
        self.resume = resume_mode(self.resume)
        if self.id is not None:
            self.id = check_run_id(str(self.id))
        if self.tags is not None:
            self.tags = check_tags(self.tags)
        for name in ("project", "entity", "name", "notes", "group", "job_type"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, str(value))

    def root(self) -> Path:
        """Where the run's local directory goes: `dir`, else the client's home."""
        return Path(self.dir) if self.dir else client_settings.home()


def resume_mode(value: Any) -> str | None:
    """W&B's resume values as one of allow, must, never, auto, or None (W&B's True is auto)."""
    if value is None or value is False:
        return None
    if value is True:
        return "auto"
    text = str(value).lower()
    if text in ("true", "1"):
        return "auto"
    if text in ("false", "0", ""):
        return None
    if text not in (*RESUME_MODES, "auto"):
        raise SweepTrackerError(
            f"resume must be one of 'allow', 'must', 'never', 'auto' or True, not {value!r}."
        )
    return text


def check_tags(tags: Iterable[Any] | str) -> list[str]:
    """Tags as a list of strings, each 1 to 64 characters as in W&B."""
    if isinstance(tags, str):
        raise SweepTrackerError(f"tags must be a list of strings, not the string {tags!r}.")
    found = [str(tag) for tag in tags]
    for tag in found:
        if not 1 <= len(tag) <= 64:
            raise SweepTrackerError(f"Tags must have 1 to 64 characters: {tag!r}.")
    return found


def filter_config(
    config: dict[str, Any], include: Sequence[str] | None, exclude: Sequence[str] | None
) -> dict[str, Any]:
    """`config` with only the `include` keys (when given) and without the `exclude` ones."""
    if include:
        config = {key: value for key, value in config.items() if key in include}
    if exclude:
        config = {key: value for key, value in config.items() if key not in exclude}
    return config


def new_run_id() -> str:
    """A W&B-style id for a run made without the server (offline, disabled): 8 characters
    of lowercase letters and digits, never digits only (those are the server's pk ids)."""
    alphabet = string.ascii_lowercase + string.digits
    while True:
        run_id = "".join(secrets.choice(alphabet) for _ in range(8))
        if not run_id.isdigit():
            return run_id


def run_spec(
    options: InitOptions, config: dict[str, Any], run_id: str | None, resume: str | None
) -> dict[str, Any]:
    """What the server is asked to create (config already in wire form)."""
    return {
        "name": options.name,
        "config": to_wire(config),
        "tags": options.tags or [],
        "notes": options.notes,
        "group": options.group,
        "job_type": options.job_type,
        "id": run_id,
        "resume": resume,
        "entity": options.entity,
    }


def local_info(options: InitOptions, config: dict[str, Any], project: str, run_id: str) -> RunInfo:
    """The RunInfo of a run the server does not know (yet)."""
    return RunInfo(
        id=run_id,
        name=options.name or "",
        project=project,
        state="running",
        config=config,
        summary={},
        tags=list(options.tags or []),
        notes=options.notes or "",
        created_at=None,
        group=options.group or "",
        job_type=options.job_type or "",
        entity=options.entity or "",
    )


def resume_target(options: InitOptions) -> tuple[str | None, str | None, Path | None]:
    """(id, resume, resume file) for the create request.

    resume="auto" (W&B's True) resumes the run named in the directory's resume
    file, which a run with resume="auto" writes and removes when it ends well:
    a script that crashed continues its run when started again.
    """
    run_id, resume = options.id, options.resume
    if resume == "must" and run_id is None:
        raise SweepTrackerError(
            "resume='must' needs the id of the run to resume: pass id= or set WANDB_RUN_ID."
        )
    if resume != "auto":
        return run_id, resume, None
    resume_file = options.root() / "wandb" / "wandb-resume.json"
    if run_id is None:
        run_id = read_resume_file(resume_file)
    return run_id, "allow" if run_id else None, resume_file


def read_resume_file(path: Path) -> str | None:
    """The run id a resume file names, or None."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    run_id = found.get("run_id") if isinstance(found, dict) else None
    return str(run_id) if run_id else None


def write_resume_file(path: Path, run_id: str) -> None:
    """Name `run_id` as the run resume="auto" continues."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run_id": run_id}))


def update_resumed(
    api: Api, info: RunInfo, options: InitOptions, config: dict[str, Any]
) -> dict[str, Any]:
    """A resumed run's config (the stored one, init()'s over it), with init()'s other
    arguments applied to the stored run; the config to start from."""
    merged = merge(info.config, config)
    fields = changed_fields(info, merged, options)
    if fields:
        api.update_run(info.ref, fields)
        apply_fields(info, fields)
    return merged


def changed_fields(info: RunInfo, config: dict[str, Any], options: InitOptions) -> dict[str, Any]:
    """What init() asks to change on a run it joins or resumes."""
    fields: dict[str, Any] = {}
    if config != info.config:
        fields["config"] = to_wire(config)
    for name in ("name", "notes", "group", "job_type"):
        value = getattr(options, name)
        if value and value != getattr(info, name):
            fields[name] = value
    if options.tags and list(options.tags) != info.tags:
        fields["tags"] = list(options.tags)
    return fields


def apply_fields(info: RunInfo, fields: dict[str, Any]) -> None:
    """Note on `info` the fields just changed on the server."""
    for name in ("name", "notes", "group", "job_type", "tags"):
        if name in fields:
            setattr(info, name, fields[name])


def make_run_dir(options: InitOptions, run_id: str) -> Path:
    """The run's local files directory, `<dir>/wandb/run-<time>-<id>/files` as in W&B
    (a temporary one when `dir` cannot be written)."""
    stamp = time.strftime("%Y%m%d_%H%M%S")
    path = options.root() / "wandb" / f"run-{stamp}-{run_id}" / "files"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        fallback = Path(tempfile.mkdtemp(prefix=f"sweeptracker-{run_id}-"))
        logger.warning("SweepTracker: cannot use %s (%s); using %s", path, error, fallback)
        return fallback
    return path


def initial_config(
    config: ConfigSource | str | None,
    include: Sequence[str] | None,
    exclude: Sequence[str] | None,
) -> dict[str, Any]:
    """init()'s config checked (a str is a YAML file, as in W&B), before anything is made."""
    if isinstance(config, str | os.PathLike):
        config = config_file(Path(config))
    checked = Config(config).as_dict()
    return filter_config(checked, include, exclude)


def config_file(path: Path) -> dict[str, Any]:
    """A YAML config file: plain keys, or W&B's config-defaults form (`key: {value: ...}`)."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SweepTrackerError(f"Cannot read the config file {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise SweepTrackerError(f"The config file {path} does not hold a mapping.")
    loaded.pop("wandb_version", None)
    return {
        str(key): value["value"] if isinstance(value, dict) and "value" in value else value
        for key, value in loaded.items()
    }
