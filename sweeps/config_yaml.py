"""Reading a sweep config's YAML with bounds on nesting and aliases.

PyYAML composes recursively (very deep flow sequences raise RecursionError), lets an alias
refer to the node that holds it (a list that contains itself, which every later walk
recurses into forever) and expands nothing itself, so that a few hundred bytes of aliases
to aliases ("billion laughs") become billions of values once the config is walked.
`BoundedLoader` refuses all three while composing, before any value is built.
"""

from __future__ import annotations

from typing import Any

import yaml
from django.conf import settings
from yaml.composer import ComposerError
from yaml.events import AliasEvent
from yaml.nodes import Node


class LimitError(ComposerError):
    """The YAML text passes a limit; its message names the setting."""


class BoundedLoader(yaml.SafeLoader):
    """A SafeLoader that counts nesting depth and aliases while composing."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self.max_depth = int(settings.MAX_YAML_DEPTH)
        self.max_aliases = int(settings.MAX_YAML_ALIASES)
        self.depth = 0
        self.alias_count = 0
        # Aliases each finished anchor repeats when an alias to it is expanded.
        self.anchor_aliases: dict[str, int] = {}
        self.open_anchors: set[str] = set()

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]  # untyped in the stubs
        if isinstance(event, AliasEvent):
            self._count_alias(event)
            return super().compose_node(parent, index)
        if self.depth >= self.max_depth:
            message = f"nests deeper than MAX_YAML_DEPTH ({self.max_depth} levels)"
            raise LimitError(None, None, message, event.start_mark)
        anchor = event.anchor
        before = self.alias_count
        if anchor is not None:
            self.open_anchors.add(anchor)
        self.depth += 1
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.anchor_aliases[anchor] = self.alias_count - before
        return node

    def _count_alias(self, event: Any) -> None:
        anchor = event.anchor
        if anchor in self.open_anchors:
            message = f"the alias *{anchor} refers to a node that holds it (a loop)"
            raise LimitError(None, None, message, event.start_mark)
        # An alias stands for its anchor's whole value, aliases inside included.
        self.alias_count += 1 + self.anchor_aliases.get(anchor, 0)
        if self.alias_count > self.max_aliases:
            message = (
                f"uses more than MAX_YAML_ALIASES ({self.max_aliases}) aliases, "
                "counting those that aliases repeat"
            )
            raise LimitError(None, None, message, event.start_mark)


def load(text: str) -> Any:
    """The YAML document in `text`; yaml.YAMLError (LimitError past a limit) if bad."""
    loader = BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
