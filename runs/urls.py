from __future__ import annotations

from django.urls import path

from runs import views

app_name = "runs"
urlpatterns = [
    path("p/<slug:slug>/", views.project_runs, name="project"),
    path("p/<slug:slug>/runs/<id:run_id>/", views.run_detail, name="detail"),
]
