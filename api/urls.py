from django.urls import path

from . import views

urlpatterns = [
    path("automation-versions/<int:version_id>", views.version_detail, name="api-version"),
    path(
        "automation-versions/<int:version_id>/status",
        views.version_status,
        name="api-version-status",
    ),
    path("openapi.json", views.openapi, name="api-openapi"),
]
