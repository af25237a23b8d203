from __future__ import annotations

from django.apps import AppConfig


class SweepsConfig(AppConfig):
    name = "sweeps"

    def ready(self) -> None:
        # Connect the receivers that record trial results and stop runs early.
        from sweeps import early_stop, state_machine  # noqa: F401
