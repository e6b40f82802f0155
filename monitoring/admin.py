"""Run events and incidents in the admin: read-only for everyone, since only the ingest and
the poller write them. Lists stay cheap on big tables: no full count, filters whose choices
come from small tables, and no date hierarchy (its distinct dates would scan every event)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from automations.admin_display import duration, status_badge
from automations.models import Project
from deployflow.admin_mixins import ReadOnlyAdminMixin

from .models import Incident, RunEvent

ERROR_EXCERPT_CHARS = 80


def _excerpt(text: str) -> str:
    return text if len(text) <= ERROR_EXCERPT_CHARS else text[: ERROR_EXCERPT_CHARS - 1] + "…"


class ProjectFilter(admin.SimpleListFilter):
    """By project, with choices from the projects table rather than from the events."""

    title = "project"
    parameter_name = "project"
    # The path from the filtered model to its project.
    path = "workflow_binding__automation_version__project"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Project.objects.values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None or not value.isdecimal():
            return queryset
        return queryset.filter(**{self.path: int(value)})


class IncidentProjectFilter(ProjectFilter):
    path = "binding__automation_version__project"


class OpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("open", "open"), ("resolved", "resolved")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


def _version_label(binding: Any) -> str:
    version = binding.automation_version
    return f"{version.project.name} {version.version}"


@admin.register(RunEvent)
class RunEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[RunEvent]):
    list_display = [
        "started_at",
        "version_label",
        "badge",
        "took",
        "received_via",
        "short_error",
        "external_id",
    ]
    list_filter = [ProjectFilter, "status", ("started_at", admin.DateFieldListFilter)]
    list_select_related = ["workflow_binding__automation_version__project"]
    search_fields = ["=external_id", "=workflow_binding__workflow_id"]
    search_help_text = "Exact run id or WRK workflow id."
    show_full_result_count = False
    actions = None

    @admin.display(description="version")
    def version_label(self, event: RunEvent) -> str:
        return _version_label(event.workflow_binding)

    @admin.display(description="status", ordering="status")
    def badge(self, event: RunEvent) -> str:
        return status_badge(event.status)

    @admin.display(description="duration")
    def took(self, event: RunEvent) -> str:
        return duration(event.started_at, event.finished_at)

    @admin.display(description="error")
    def short_error(self, event: RunEvent) -> str:
        return _excerpt(event.error)


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Incident]):
    list_display = [
        "opened_at",
        "kind",
        "version_label",
        "state",
        "failure_count",
        "resolved_at",
        "short_error",
    ]
    list_filter = [OpenFilter, "kind", IncidentProjectFilter]
    list_select_related = ["binding__automation_version__project"]
    actions = None

    @admin.display(description="version")
    def version_label(self, incident: Incident) -> str:
        return _version_label(incident.binding)

    @admin.display(description="state", ordering="resolved_at")
    def state(self, incident: Incident) -> str:
        return status_badge("open" if incident.is_open else "resolved")

    @admin.display(description="last error")
    def short_error(self, incident: Incident) -> str:
        return _excerpt(incident.last_error)
