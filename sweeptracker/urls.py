from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from projects.api import ApiKeyViewSet, ProjectViewSet
from runs.api import RunViewSet
from sweeps.api import SweepViewSet
from sweeptracker.converters import IdConverter
from sweeptracker.site import SweepTrackerRouter, favicon

register_converter(IdConverter, "id")

router = SweepTrackerRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register("runs", RunViewSet, basename="run")
router.register("keys", ApiKeyViewSet, basename="apikey")
router.register("sweeps", SweepViewSet, basename="sweep")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api-auth/", include("rest_framework.urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon, name="favicon"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("projects.urls")),
    path("", include("runs.urls")),
    path("", include("sweeps.urls")),
]

handler400 = "sweeptracker.errors.bad_request"
handler403 = "sweeptracker.errors.permission_denied"
handler404 = "sweeptracker.errors.page_not_found"
handler500 = "sweeptracker.errors.server_error"
