from __future__ import annotations

from django.contrib import admin

from sweeps.models import Agent, Sweep, Trial


@admin.register(Sweep)
class SweepAdmin(admin.ModelAdmin):
    list_display = ["id", "name", "project", "method", "state", "next_number", "created_at"]
    list_filter = ["state", "method"]
    search_fields = ["id", "name", "project__slug"]
    raw_id_fields = ["project", "best_trial", "warm_start_from"]
    list_select_related = ["project"]


@admin.register(Trial)
class TrialAdmin(admin.ModelAdmin):
    list_display = ["sweep", "number", "state", "value", "is_best", "run"]
    list_filter = ["state", "is_best"]
    search_fields = ["sweep__id", "sweep__name"]
    raw_id_fields = ["sweep", "run", "agent"]
    list_select_related = ["sweep", "run"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ["sweep", "host", "pid", "started_at", "last_seen_at", "stopped_at"]
    search_fields = ["sweep__id", "host", "key"]
    raw_id_fields = ["sweep"]
    list_select_related = ["sweep"]
