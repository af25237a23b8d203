from __future__ import annotations

from django.urls import path

from sweeps import state_machine, views

app_name = "sweeps"
urlpatterns = [
    path("sweeps/", views.sweep_list, name="list"),
    path("sweeps/new/", views.sweep_new, name="new"),
    path("p/<slug:slug>/sweeps/", views.sweep_list, name="project_list"),
    path("p/<slug:slug>/sweeps/new/", views.sweep_new, name="project_new"),
    path("sweeps/<str:sweep_id>/", views.sweep_detail, name="detail"),
    path("sweeps/<str:sweep_id>/live/", views.sweep_live, name="live"),
    path("sweeps/<str:sweep_id>/trials.csv", views.trials_csv, name="trials_csv"),
    path("sweeps/<str:sweep_id>/trials/<int:number>/", views.trial_detail, name="trial"),
    path("sweeps/<str:sweep_id>/delete/", views.sweep_delete, name="delete"),
    # One URL per lifecycle action, named after it: sweeps:start, sweeps:pause, ...
    *(
        path(
            f"sweeps/<str:sweep_id>/{action}/", views.sweep_action, {"action": action}, name=action
        )
        for action in state_machine.ACTIONS
    ),
]
