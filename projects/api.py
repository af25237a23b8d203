from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from projects.access import check_role, create_project, with_role
from projects.models import ApiKey, Membership, Project, Role
from projects.project_lists import KEY_LIST, PROJECT_LIST
from projects.serializers import (
    ApiKeySerializer,
    MembershipSerializer,
    NewApiKeySerializer,
    ProjectSerializer,
)
from sweeptracker.converters import ID_REGEX


@extend_schema_view(list=extend_schema(parameters=PROJECT_LIST.parameters()))
class ProjectViewSet(viewsets.ModelViewSet):
    """Projects you are a member of; anyone may create one and becomes its admin."""

    serializer_class = ProjectSerializer
    lookup_field = "slug"
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def get_queryset(self) -> QuerySet[Project]:
        projects = Project.objects.select_related("owner").order_by("slug")
        projects = with_role(projects, self.request.user, "pk")
        if self.action == "list":
            return PROJECT_LIST.filter(projects, self.request.query_params)
        return projects

    def get_object(self) -> Project:
        project: Project = super().get_object()
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            check_role(project.my_role, Role.ADMIN)
        return project

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        try:
            project = create_project(
                self.request.user, data["slug"], data.get("name", ""), data.get("description", "")
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from error
        project.my_role = Role.ADMIN
        serializer.instance = project

    @extend_schema(request=MembershipSerializer, responses=MembershipSerializer(many=True))
    # Every member in one answer, not paged: the schema must say so too.
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def members(self, request: Request, slug: str) -> Response:
        """List members; an admin adds one or changes a role by posting username and role."""
        project = super().get_object()
        if request.method == "POST":
            check_role(project.my_role, Role.ADMIN)
            serializer = MembershipSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            Membership.objects.update_or_create(
                project=project,
                user=serializer.validated_data["user"],
                defaults={"role": serializer.validated_data["role"]},
            )
        members = project.memberships.select_related("user").order_by("user__username")
        return Response(MembershipSerializer(members, many=True).data)


@extend_schema_view(list=extend_schema(parameters=KEY_LIST.parameters()))
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Your API keys. The key itself is in the creation response only; delete revokes."""

    serializer_class = ApiKeySerializer
    lookup_value_regex = ID_REGEX

    def get_queryset(self) -> QuerySet[ApiKey]:
        # IsAuthenticated guards the view: the user has a pk.
        keys = ApiKey.objects.filter(user_id=self.request.user.pk or 0).order_by("-created_at")
        if self.action == "list":
            return KEY_LIST.filter(keys, self.request.query_params)
        return keys

    @extend_schema(responses={201: NewApiKeySerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_key, key = ApiKey.issue(request.user, serializer.validated_data.get("name", ""))
        body = NewApiKeySerializer(api_key, context={"key": key}).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: ApiKey) -> None:
        instance.revoke()
