"""HTML pages about projects and API keys. A project's own page is about its runs: runs.views."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Max, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from projects.access import create_project, projects_for
from projects.models import ApiKey, Project


class ProjectForm(forms.Form):
    slug = forms.SlugField(
        max_length=100,
        help_text="Used in URLs and by the client: letters, digits, - and _.",
    )
    name = forms.CharField(max_length=200, required=False, help_text="Defaults to the slug.")
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="Where the key will live, for example “laptop” or “gpu-box-3”.",
    )


def project_rows(user: Any) -> QuerySet[Project]:
    """The user's projects with run counts, last run time and role, in one query."""
    # The membership join from projects_for() has one row per project, so the run
    # count is not multiplied and the role comes from that same join.
    return (
        projects_for(user)
        .annotate(
            run_count=Count("runs"),
            last_run_at=Max("runs__created_at"),
            # Declared on Project for the rows projects.access loads; filled from this join here.
            my_role=F("memberships__role"),  # type: ignore[no-redef]
        )
        .order_by("name", "slug")
    )


@require_http_methods(["GET", "POST"])
@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    """Your projects, and a form to start a new one (you become its admin)."""
    form = ProjectForm(request.POST if request.method == "POST" else None, label_suffix="")
    if form.is_bound and form.is_valid():
        try:
            project = create_project(request.user, **form.cleaned_data)
        except ValidationError as error:
            # A taken slug is only found by the model's own validation.
            form.add_error(None, error)
        else:
            messages.success(request, f"Project “{project.name}” created.")
            return redirect("runs:project", slug=project.slug)
    context = {"projects": project_rows(request.user), "form": form}
    return render(request, "projects/project_list.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def api_keys(request: HttpRequest) -> HttpResponse:
    """Your API keys; a new key is shown in clear on the answer to its creation only."""
    form = ApiKeyForm(request.POST if request.method == "POST" else None, label_suffix="")
    new_key = None
    if form.is_bound and form.is_valid():
        _, new_key = ApiKey.issue(request.user, form.cleaned_data["name"])
        form = ApiKeyForm(label_suffix="")
    context = {
        # login_required: the user has a pk.
        "keys": ApiKey.objects.filter(user_id=request.user.pk or 0),
        "form": form,
        "new_key": new_key,
        "base_url": request.build_absolute_uri("/").rstrip("/"),
    }
    # Not a redirect: the clear key must not outlive this one response (never_cache
    # keeps it out of caches, and a reload asks before posting again).
    return render(request, "projects/key_list.html", context)


@require_POST
@login_required
def revoke_key(request: HttpRequest, key_id: int) -> HttpResponse:
    # Someone else's key is a 404, as if it did not exist.
    key = get_object_or_404(ApiKey, pk=key_id, user=request.user)
    if key.is_active:
        key.revoke()
        messages.success(request, f"Key {key.name or key.lookup} revoked.")
    return redirect("projects:keys")
