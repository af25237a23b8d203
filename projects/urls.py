from __future__ import annotations

from django.urls import path

from projects import views

app_name = "projects"
urlpatterns = [
    path("", views.project_list, name="list"),
    path("keys/", views.api_keys, name="keys"),
    path("keys/<id:key_id>/revoke/", views.revoke_key, name="revoke_key"),
]
