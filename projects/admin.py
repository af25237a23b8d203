from __future__ import annotations

from django.contrib import admin

from projects.models import ApiKey, Membership, Project


class MembershipInline(admin.TabularInline):
    model = Membership
    raw_id_fields = ["user"]
    extra = 0


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "owner", "created_at"]
    search_fields = ["slug", "name"]
    raw_id_fields = ["owner"]
    list_select_related = ["owner"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["project", "user", "role"]
    list_filter = ["role"]
    search_fields = ["project__slug", "user__username"]
    raw_id_fields = ["project", "user"]
    list_select_related = ["project", "user"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["lookup", "user", "name", "created_at", "last_used_at", "revoked_at"]
    search_fields = ["user__username", "name", "lookup"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["lookup", "hashed", "created_at", "last_used_at"]
