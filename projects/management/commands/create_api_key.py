from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from projects.models import ApiKey


class Command(BaseCommand):
    help = "Create an API key for USERNAME (creating the user if needed); the key is the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell keys apart.")

    def handle(self, *args: Any, **options: Any) -> None:
        user, created = get_user_model().objects.get_or_create(username=options["username"])
        if created:
            user.set_unusable_password()
            user.save()
            self.stdout.write(f"Created user {user.username}; set a password with changepassword.")
        _, key = ApiKey.issue(user, name=options["name"])
        self.stdout.write("API key (shown once, store it now):")
        self.stdout.write(key)
