from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from projects.models import KEY_PREFIX, ApiKey, Membership, Project, Role


class ProjectSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    role = serializers.CharField(source="my_role", read_only=True, default=None)

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "owner", "role", "created_at"]
        extra_kwargs = {"name": {"required": False}}


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.SlugRelatedField(
        source="user", slug_field="username", queryset=get_user_model().objects.all()
    )
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["username", "role"]


class ApiKeySerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = ["created_at", "last_used_at", "revoked_at"]

    def get_prefix(self, api_key: ApiKey) -> str:
        return f"{KEY_PREFIX}{api_key.lookup}"


class NewApiKeySerializer(ApiKeySerializer):
    key = serializers.SerializerMethodField()

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]

    def get_key(self, api_key: Any) -> str:
        # Only the response to creation carries the clear key.
        key: str = self.context["key"]
        return key
