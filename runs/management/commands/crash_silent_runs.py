from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from runs.lifecycle import crash_silent_runs


class Command(BaseCommand):
    help = "Mark crashed every running run whose heartbeat is older than HEARTBEAT_TIMEOUT."

    def handle(self, *args: Any, **options: Any) -> None:
        crashed = crash_silent_runs()
        self.stdout.write(
            f"{crashed} run(s) silent for over {settings.HEARTBEAT_TIMEOUT}s crashed."
        )
