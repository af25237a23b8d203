from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from projects.access import create_project
from projects.models import ApiKey, Project

DEMO_KEY_NAME = "demo"


class Command(BaseCommand):
    help = "Create or refresh the demo user and project; prints a fresh API key as the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("password")

    def handle(self, *args: Any, **options: Any) -> None:
        user, _ = get_user_model().objects.get_or_create(username=options["username"])
        # A demo password is short on purpose; validators guard real sign-ups only.
        user.set_password(options["password"])
        user.is_staff = user.is_superuser = True
        user.save()
        if not Project.objects.filter(slug="demo").exists():
            create_project(user, "demo", "Demo", "Runs made by `python3 tasks.py run`.")
        for old in ApiKey.objects.active().filter(user=user, name=DEMO_KEY_NAME):
            old.revoke()
        _, key = ApiKey.issue(user, name=DEMO_KEY_NAME)
        self.stdout.write(f"Demo user {user.username} is ready; its API key:")
        self.stdout.write(key)
