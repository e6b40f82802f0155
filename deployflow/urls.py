from django.contrib import admin
from django.urls import include, path

from . import views
from .health import ReadyzView
from .metrics import metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("admin/", admin.site.urls),
    path("v1/", include("api.urls")),
    path("notifications/", include("notifications.urls")),
    path("", include("status.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    # /healthz is answered by deployflow.middleware.HealthzMiddleware, before any of these.
    path("readyz", ReadyzView.as_view(), name="readyz"),
    path("metrics", metrics, name="metrics"),
]
