from __future__ import annotations

from django.urls import path, register_converter

from runs import views
from runs.ids import RunIdConverter

# A run's page takes its pk digits or its explicit W&B id.
register_converter(RunIdConverter, "run_id")

app_name = "runs"
urlpatterns = [
    path("p/<slug:slug>/", views.project_runs, name="project"),
    path("p/<slug:slug>/runs/<run_id:run_id>/", views.run_detail, name="detail"),
]
