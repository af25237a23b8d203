"""A run's config and summary: dicts that tell the sender when they change."""

from __future__ import annotations

from argparse import Namespace
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any

from sweeptracker_client.values import plain, to_wire

Pairs = Mapping[str, Any] | Iterable[tuple[str, Any]]
ConfigSource = Pairs | Namespace


def _items(data: ConfigSource) -> Iterable[tuple[str, Any]]:
    """The pairs of a dict, an argparse Namespace (as scripts often pass) or a pair list."""
    if isinstance(data, Namespace):
        return vars(data).items()
    if isinstance(data, Mapping):
        return data.items()
    return data


class Config(MutableMapping[str, Any]):
    """A run's config, read and set by item or attribute (`config["lr"]`, `config.lr`).

    Nested dicts become Configs too (`config.model.layers`). Every change is
    sent to the server in the background.
    """

    _data: dict[str, Any]
    _on_change: Callable[[], None] | None

    def __init__(
        self, data: ConfigSource | None = None, on_change: Callable[[], None] | None = None
    ) -> None:
        # object.__setattr__: our own __setattr__ stores config keys.
        object.__setattr__(self, "_data", {})
        object.__setattr__(self, "_on_change", on_change)
        for key, value in _items(data or {}):
            self._data[str(key)] = self._wrap(key, value)

    def _wrap(self, key: Any, value: Any) -> Any:
        value = plain(value, f"config[{key!r}]")
        return Config(value, self._on_change) if isinstance(value, dict) else value

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

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

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[str(key)] = self._wrap(key, value)
        self._changed()

    def __delitem__(self, key: str) -> None:
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

    def update(self, other: ConfigSource = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set several keys at once (from a dict, an argparse Namespace or keywords)."""
        for key, value in [*_items(other), *kwargs.items()]:
            self._data[str(key)] = self._wrap(key, value)
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

    def update(self, other: Pairs = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Set keys by hand; they keep these values whatever is logged later."""
        items = other.items() if isinstance(other, Mapping) else other
        changed = {str(k): plain(v, f"summary[{k!r}]") for k, v in [*items, *kwargs.items()]}
        self._data.update(changed)
        self._explicit.update(changed)
        self._on_merge(to_wire(changed))

    def _logged(self, metrics: Mapping[str, float]) -> None:
        """Take the values of a log() call, except for keys set by hand."""
        changed = {k: v for k, v in metrics.items() if k not in self._explicit}
        if changed:
            self._data.update(changed)
            self._on_merge(to_wire(changed))
