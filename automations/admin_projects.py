"""The admin of clients and projects: what each project has Live and what waits, its
versions, and its deploy history with a rollback on each row."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .admin_display import deployment_outcome, duration, status_badge
from .models import (
    PERM_DEPLOY,
    PERM_RESTAGE,
    AutomationVersion,
    Client,
    Deployment,
    DeploymentStatus,
    Project,
    VersionStatus,
)
from .selectors import projects_with_overview

HISTORY_FIELDS: tuple[str, ...] = (
    "started_at",
    "version_link",
    "actor",
    "source",
    "outcome",
    "attempts",
    "took",
    "rollback",
    "error",
)
VERSION_HISTORY_FIELDS = tuple(f for f in HISTORY_FIELDS if f != "version_link")
VERSION_ROW_FIELDS = ("version", "badge", "workflow", "created_at")


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ["name", "slug", "contact_email"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


class DeploymentHistoryInline(ReadOnlyAdminMixin, admin.TabularInline[Deployment, Any]):
    """Who deployed what, when, how it went: read-only, newest first."""

    model = Deployment
    fk_name = "project"
    extra = 0
    can_delete = False
    ordering = ["-started_at"]
    verbose_name = "deploy"
    verbose_name_plural = "deploy history"
    history_fields: tuple[str, ...] = HISTORY_FIELDS

    # The project's history offers a rollback on each row; the version's own page has its
    # own button.
    offers_rollback = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deployment]:
        return (
            super()
            .get_queryset(request)
            .select_related("automation_version", "actor", "previous_version__workflow_binding")
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        if self.offers_rollback and request.user.has_perms([PERM_DEPLOY, PERM_RESTAGE]):
            return (*self.history_fields, "rollback_action")
        return self.history_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description="")
    def rollback_action(self, deployment: Deployment) -> SafeString | str:
        """A link to the one confirmation of a rollback (its page shows what the plan
        allows); offered on the rows of versions that went Live and were replaced."""
        version = deployment.automation_version
        if deployment.status != DeploymentStatus.SUCCEEDED or version.status != (
            VersionStatus.ARCHIVED
        ):
            return ""
        url = reverse("admin:automations_automationversion_redeploy", args=[version.pk])
        return format_html(
            '<a class="button df-rollback" role="button" href="{}" id="df-rollback-{}">Roll '
            "back to this version</a>",
            url,
            deployment.pk,
        )

    @admin.display(description="version")
    def version_link(self, deployment: Deployment) -> SafeString:
        version = deployment.automation_version
        url = reverse("admin:automations_automationversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, version.version)

    @admin.display(description="outcome")
    def outcome(self, deployment: Deployment) -> SafeString:
        return deployment_outcome(deployment)

    @admin.display(description="duration")
    def took(self, deployment: Deployment) -> str:
        return duration(deployment.started_at, deployment.finished_at)

    @admin.display(description="rollback")
    def rollback(self, deployment: Deployment) -> str:
        # Words, not the admin's red cross: "not a rollback" is no error.
        return "rollback" if deployment.is_rollback else "—"


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline[AutomationVersion, Project]):
    model = AutomationVersion
    extra = 0
    can_delete = False
    show_change_link = True
    fields = VERSION_ROW_FIELDS
    readonly_fields = VERSION_ROW_FIELDS
    ordering = ["-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AutomationVersion]:
        return super().get_queryset(request).select_related("workflow_binding")

    @admin.display(description="status")
    def badge(self, version: AutomationVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="workflow")
    def workflow(self, version: AutomationVersion) -> SafeString | str:
        return _workflow_with_incident(version)


def _workflow_with_incident(version: AutomationVersion) -> SafeString | str:
    binding = version.binding_or_none()
    if binding is None:
        return "—"
    if binding.deactivation_failed_at is None:
        return binding.workflow_id
    return format_html(
        '{} <span class="df-badge df-badge-warning" title="WRK has not confirmed its '
        'deactivation">still active — deactivation failed</span>',
        binding.workflow_id,
    )


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["name", "client", "badge", "live_version", "waiting", "updated_at"]
    list_filter = ["status", "client"]
    list_select_related = ["client"]
    search_fields = ["name", "slug", "client__name"]
    readonly_fields = ["status"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["collaborators"]
    inlines = [VersionInline, DeploymentHistoryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        return projects_with_overview(super().get_queryset(request))

    def get_inlines(
        self, request: HttpRequest, obj: Project | None
    ) -> list[type[admin.options.InlineModelAdmin[Any, Any]]]:
        # A new project has no versions or deploys yet: its add form is the project alone.
        return list(self.inlines) if obj is not None else []

    @admin.display(description="status", ordering="status")
    def badge(self, project: Project) -> SafeString:
        return status_badge(project.status)

    @admin.display(description="live version")
    def live_version(self, project: Project) -> str:
        return getattr(project, "live_label", None) or "—"

    @admin.display(description="waiting")
    def waiting(self, project: Project) -> SafeString | str:
        """What waits for ops: each kind as a badge, the open incidents as warnings."""
        counts = [
            (getattr(project, "ready_count", 0), "ready-to-launch", "Ready to Launch"),
            (getattr(project, "awaiting_approval_count", 0), "draft", "awaiting approval"),
            (getattr(project, "error_count", 0), "error", "Error"),
            (
                getattr(project, "deactivation_pending_count", 0),
                "warning",
                "deactivation pending",
            ),
        ]
        shown = [(css, f"{n} {label}") for n, css, label in counts if n]
        if not shown:
            return "—"
        return format_html(
            '<span class="df-waiting">{}</span>',
            format_html_join(" ", '<span class="df-badge df-badge-{}">{}</span>', shown),
        )
