from django.urls import path, re_path, register_converter

from . import lists, views, webhooks
from .converters import IdConverter
from .http import unknown_endpoint

register_converter(IdConverter, "db_id")

urlpatterns = [
    path("automation-versions", lists.versions, name="api-versions"),
    path("automation-versions/<db_id:version_id>", views.version_detail, name="api-version"),
    path(
        "automation-versions/<db_id:version_id>/status",
        views.version_status,
        name="api-version-status",
    ),
    path(
        "automation-versions/<db_id:version_id>/approval",
        views.version_approval,
        name="api-version-approval",
    ),
    path("projects", lists.projects, name="api-projects"),
    path("deployments", lists.deployments, name="api-deployments"),
    path("webhooks/wrk/run-events", webhooks.wrk_run_events, name="api-wrk-run-events"),
    path("openapi.json", views.openapi, name="api-openapi"),
    # Last: whatever no route above matches is answered 404 in the API's JSON shape.
    re_path(r"", unknown_endpoint),
]
