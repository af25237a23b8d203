from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"


ROLE_RANK = {Role.VIEWER: 1, Role.EDITOR: 2, Role.ADMIN: 3}


class Project(models.Model):
    """A group of runs and sweeps that a set of members share."""

    slug = models.SlugField(max_length=100, unique=True, validators=[validate_slug])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="owned_projects"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # The requesting user's role, set by projects.access when it loads the project.
    my_role: str | None

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    project = models.ForeignKey(Project, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="one_role_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


KEY_PREFIX = "st_"
# The part of a key kept in clear to find its row; the rest is only hashed.
LOOKUP_LENGTH = 8
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKeyQuerySet(models.QuerySet["ApiKey"]):
    def active(self) -> ApiKeyQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A bearer key for the API. The key itself is shown once and stored hashed."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    lookup = models.CharField(max_length=LOOKUP_LENGTH, db_index=True)
    hashed = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{KEY_PREFIX}{self.lookup}… ({self.user})"

    @classmethod
    def issue(cls, user: object, name: str = "") -> tuple[ApiKey, str]:
        """Make a key for the user; the clear key is returned only here."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        body = key.removeprefix(KEY_PREFIX)
        api_key = cls.objects.create(
            user=user, name=name, lookup=body[:LOOKUP_LENGTH], hashed=hash_key(key)
        )
        return api_key, key

    @classmethod
    def find(cls, key: str) -> ApiKey | None:
        """The active key matching `key`, compared in constant time."""
        body = key.removeprefix(KEY_PREFIX)
        if not key.startswith(KEY_PREFIX) or len(body) < LOOKUP_LENGTH:
            return None
        wanted = hash_key(key)
        candidates = cls.objects.active().filter(lookup=body[:LOOKUP_LENGTH])
        for candidate in candidates.select_related("user"):
            if hmac.compare_digest(candidate.hashed, wanted):
                return candidate
        return None

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    def touch(self) -> None:
        """Record a use, at most once a minute so reads stay reads."""
        now = timezone.now()
        if self.last_used_at is None or now - self.last_used_at > LAST_USED_PRECISION:
            ApiKey.objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
