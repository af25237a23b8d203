"""A run's config and summary: dicts that tell the sender when they change."""

from __future__ import annotations

import logging
from argparse import Namespace
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from sweeptracker_client.errors import SweepTrackerError
from sweeptracker_client.values import plain, to_wire

logger = logging.getLogger("sweeptracker_client")

Pairs = Mapping[str, Any] | Iterable[tuple[str, Any]]
ConfigSource = Pairs | Namespace
# A place in a nested config, as the keys from the top: ("model", "layers").
KeyPath = tuple[str, ...]


def _items(data: ConfigSource) -> Iterable[tuple[str, Any]]:
    """The pairs of a dict, an argparse Namespace (as scripts often pass) or a pair list."""
    if isinstance(data, Namespace):
        return vars(data).items()
    if isinstance(data, Mapping):
        return data.items()
    return data


class Locks:
    """Config paths that only their owner may set, as W&B locks a sweep's parameters.

    Shared by a config and every config nested in it. Setting a locked path,
    or a key above one (replacing the dict that holds it), is ignored with a
    warning.
    """

    def __init__(self) -> None:
        self.owners: dict[KeyPath, str] = {}

    def add(self, paths: Iterable[KeyPath], owner: str) -> None:
        """Lock `paths` for `owner` (say "sweep")."""
        for path in paths:
            self.owners[tuple(path)] = owner

    def owner(self, path: KeyPath) -> str | None:
        """Who locked `path` or a path below it; None when it is free."""
        for locked, owner in self.owners.items():
            if locked[: len(path)] == path:
                return owner
        return None


def leaf_paths(data: Mapping[str, Any], prefix: KeyPath = ()) -> list[KeyPath]:
    """The path of every value in nested dicts that is not itself a dict."""
    paths: list[KeyPath] = []
    for key, value in data.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping) and value:
            paths.extend(leaf_paths(value, path))
        else:
            paths.append(path)
    return paths


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `override` merged in at every depth; override's values win."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


class ConfigError(SweepTrackerError):
    """A config value was changed without allow_val_change, as W&B's ConfigError."""


class Config(MutableMapping[str, Any]):
    """A run's config, read and set by item or attribute (`config["lr"]`, `config.lr`).

    Nested dicts become Configs too (`config.model.layers`). Every change is
    sent to the server in the background. In a sweep run the swept
    parameters are locked: setting one is ignored with a warning, as in W&B.
    As in W&B, giving a top-level key another value than it has raises
    ConfigError unless `update(..., allow_val_change=True)` or
    `init(allow_val_change=True)`.
    """

    _data: dict[str, Any]
    _on_change: Callable[[], None] | None
    _locks: Locks
    _path: KeyPath
    _allow_val_change: bool

    def __init__(
        self,
        data: ConfigSource | None = None,
        on_change: Callable[[], None] | None = None,
        *,
        _locks: Locks | None = None,
        _path: KeyPath = (),
    ) -> None:
        # object.__setattr__: our own __setattr__ stores config keys.
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_on_change", on_change)
        object.__setattr__(self, "_locks", Locks() if _locks is None else _locks)
        object.__setattr__(self, "_path", _path)
        object.__setattr__(self, "_allow_val_change", False)
        for key, value in _items(data or {}):
            self._data[str(key)] = self._wrap(key, value)

    def _wrap(self, key: Any, value: Any) -> Any:
        value = plain(value, f"config[{key!r}]")
        if isinstance(value, dict):
            return Config(value, self._on_change, _locks=self._locks, _path=(*self._path, str(key)))
        return value

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def _locked(self, key: str) -> bool:
        """True, after a warning, when `key` holds a locked parameter."""
        path = (*self._path, str(key))
        owner = self._locks.owner(path)
        if owner is None:
            return False
        logger.warning(
            "Config item '%s' was locked by '%s' (ignored update).", ".".join(path), owner
        )
        return True

    def allow_changes(self, allow: bool = True) -> None:
        """Let keys get new values without allow_val_change (init(allow_val_change=True))."""
        object.__setattr__(self, "_allow_val_change", allow)

    def lock(self, paths: Iterable[KeyPath], owner: str) -> None:
        """Lock the config `paths` (tuples of keys from the top) for `owner`."""
        self._locks.add(paths, owner)

    def __getattr__(self, name: str) -> Any:
        # Private names are never keys: copy and pickle probe for them before _data exists.
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"config has no key {name!r}") from None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def _check_change(self, key: str, value: Any, allow: bool | None) -> None:
        """ConfigError when a top-level `key` would get another value, unless allowed."""
        if allow or (allow is None and self._allow_val_change) or self._path:
            return
        if key not in self._data:
            return
        current = self._data[key]
        current = current.as_dict() if isinstance(current, Config) else current
        new = plain(value, f"config[{key!r}]")
        if new != current and not (new != new and current != current):  # NaN is NaN
            raise ConfigError(
                f'Attempted to change value of key "{key}" from {current!r} to {new!r}\n'
                "If you really want to do this, pass allow_val_change=True to config.update()"
            )

    def __setitem__(self, key: str, value: Any) -> None:
        if self._locked(key):
            return
        self._check_change(str(key), value, None)
        self._data[str(key)] = self._wrap(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
        if key in self._data and self._locked(key):
            return
        del self._data[key]
        self._changed()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Config({self.as_dict()!r})"

    def __dir__(self) -> Iterable[str]:
        return [*super().__dir__(), *(key for key in self._data if key.isidentifier())]

    # Why the type: ignore below: W&B's update takes allow_val_change; MutableMapping's does not.
    def update(  # type: ignore[override]
        self, other: ConfigSource = (), /, allow_val_change: bool | None = None, **kwargs: Any
    ) -> None:
        """Set several keys at once (from a dict, an argparse Namespace or keywords).

        A key that has a value already may get another only with
        `allow_val_change=True` (else ConfigError, and nothing is set).
        """
        pairs = [(str(k), v) for k, v in [*_items(other), *kwargs.items()]]
        free = [(key, value) for key, value in pairs if not self._locked(key)]
        for key, value in free:
            self._check_change(key, value, allow_val_change)
        for key, value in free:
            self._data[key] = self._wrap(key, value)
        if free:
            self._changed()

    def setdefaults(self, defaults: ConfigSource) -> None:
        """Set the keys of `defaults` that are not set yet (a sweep's values win)."""
        missing = {key: value for key, value in _items(defaults) if key not in self._data}
        if missing:
            self.update(missing)

    def as_dict(self) -> dict[str, Any]:
        """The config as plain nested dicts."""
        return {
            key: value.as_dict() if isinstance(value, Config) else value
            for key, value in self._data.items()
        }


class Summary(MutableMapping[str, Any]):
    """A run's summary: the last logged value of each metric, unless set by hand.

    A key set by hand (`summary["best"] = 0.9` or `update()`) keeps that value:
    later log() calls no longer change it.
    """

    def __init__(
        self,
        on_merge: Callable[[dict[str, Any]], None],
        on_replace: Callable[[dict[str, Any]], None],
    ) -> None:
        self._data: dict[str, Any] = {}
        self._explicit: set[str] = set()
        self._on_merge = on_merge
        self._on_replace = on_replace

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.update({key: value})

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._explicit.discard(key)
        # Merging cannot remove a key, so the whole summary goes again.
        self._on_replace(to_wire(self._data))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Summary({self._data!r})"

    # Why the type: ignore below: Narrower than MutableMapping.update: a summary takes pairs.
    def update(self, other: Pairs = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set keys by hand; they keep these values whatever is logged later."""
        items = other.items() if isinstance(other, Mapping) else other
        changed = {str(k): plain(v, f"summary[{k!r}]") for k, v in [*items, *kwargs.items()]}
        self._data.update(changed)
        self._explicit.update(changed)
        self._on_merge(to_wire(changed))

    def _logged(self, values: Mapping[str, Any]) -> None:
        """Take the summary values a log() call made, except for keys set by hand."""
        changed = {k: v for k, v in values.items() if k not in self._explicit}
        if changed:
            self._data.update(changed)
            self._on_merge(to_wire(changed))

    def _restore(self, stored: Mapping[str, Any]) -> None:
        """Start from the summary a resumed run has on the server (nothing is sent)."""
        self._data.update(stored)
