from __future__ import annotations

from django.contrib import admin

from runs.models import MetricPoint, Run, RunTag


class RunTagInline(admin.TabularInline):
    model = RunTag
    extra = 0


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["id", "explicit_id", "name", "project", "state", "group", "job_type"]
    list_display += ["created_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["name", "explicit_id", "group", "job_type", "project__slug"]
    raw_id_fields = ["project"]
    list_select_related = ["project"]
    inlines = [RunTagInline]


@admin.register(RunTag)
class RunTagAdmin(admin.ModelAdmin):
    list_display = ["name", "run"]
    search_fields = ["name"]
    raw_id_fields = ["run"]
    list_select_related = ["run"]


@admin.register(MetricPoint)
class MetricPointAdmin(admin.ModelAdmin):
    list_display = ["run", "key", "step", "value", "wall_time"]
    search_fields = ["key"]
    raw_id_fields = ["run"]
    list_select_related = ["run"]
    # A run may hold millions of points: counting them all for the pager is too slow.
    show_full_result_count = False
