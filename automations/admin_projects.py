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
from django.utils.translation import ngettext

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .admin_display import (
    attempts_text,
    deployment_by,
    deployment_outcome,
    duration,
    status_badge,
    version_link,
    workflow_cell,
)
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
from .selectors import newest_of_project, project_row_counts, projects_with_overview

HISTORY_FIELDS: tuple[str, ...] = (
    "started_at",
    "version_link",
    "outcome",
    "by",
    "attempts_label",
    "took",
    "error",
)
VERSION_HISTORY_FIELDS = tuple(f for f in HISTORY_FIELDS if f != "version_link")
VERSION_ROW_FIELDS = ("version_link", "badge", "workflow", "created_at")
# A project's page lists this many of its newest versions and deploys; the changelists,
# filtered to the project, have them all (linked from the page).
PROJECT_PAGE_ROWS = 20


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
    # Without the row title Django puts above each row: the columns say it all.
    classes = ["df-rows"]
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
        return version_link(deployment.automation_version)

    @admin.display(description="outcome")
    def outcome(self, deployment: Deployment) -> SafeString:
        return deployment_outcome(deployment)

    @admin.display(description="by")
    def by(self, deployment: Deployment) -> SafeString:
        return deployment_by(deployment)

    @admin.display(description="WRK attempts")
    def attempts_label(self, deployment: Deployment) -> str:
        return attempts_text(deployment.attempts)

    @admin.display(description="duration")
    def took(self, deployment: Deployment) -> str:
        return duration(deployment.started_at, deployment.finished_at)


class VersionInline(ReadOnlyAdminMixin, admin.TabularInline[AutomationVersion, Project]):
    model = AutomationVersion
    extra = 0
    can_delete = False
    fields = VERSION_ROW_FIELDS
    readonly_fields = VERSION_ROW_FIELDS
    ordering = ["-created_at"]
    # Without the row title Django puts above each row: the version column links its page.
    classes = ["df-rows"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AutomationVersion]:
        # The project too: each row's title (the version's str) names it.
        return super().get_queryset(request).select_related("project", "workflow_binding")

    @admin.display(description="version")
    def version_link(self, version: AutomationVersion) -> SafeString:
        return version_link(version)

    @admin.display(description="status")
    def badge(self, version: AutomationVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="workflow")
    def workflow(self, version: AutomationVersion) -> SafeString | str:
        return workflow_cell(version)


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

    def get_readonly_fields(self, request: HttpRequest, obj: Project | None = None) -> list[str]:
        return ["status", "rows_shown"] if obj is not None else ["status"]

    def get_formset_kwargs(
        self, request: HttpRequest, obj: Project, inline: Any, prefix: str
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = super().get_formset_kwargs(request, obj, inline, prefix)
        # The newest rows only, whatever the project's age: the page stays one screen long
        # and costs the same queries with 10 deploys or 10,000.
        kwargs["queryset"] = newest_of_project(
            kwargs["queryset"], project_id=obj.pk, limit=PROJECT_PAGE_ROWS
        )
        return kwargs

    @admin.display(description="versions and deploys")
    def rows_shown(self, project: Project) -> SafeString:
        versions, deploys = project_row_counts(project_id=project.pk)
        shown = (
            "all of them below"
            if max(versions, deploys) <= PROJECT_PAGE_ROWS
            else f"the newest {PROJECT_PAGE_ROWS} of each below"
        )
        query = f"?project__id__exact={project.pk}"
        return format_html(
            '{}, {}: {}. <a href="{}">All its versions</a> · <a href="{}">all its deploys</a>',
            ngettext("%(n)s version", "%(n)s versions", versions) % {"n": f"{versions:,}"},
            ngettext("%(n)s deploy", "%(n)s deploys", deploys) % {"n": f"{deploys:,}"},
            shown,
            reverse("admin:automations_automationversion_changelist") + query,
            reverse("admin:automations_deployment_changelist") + query,
        )

    @admin.display(description="status", ordering="status")
    def badge(self, project: Project) -> SafeString:
        return status_badge(project.status)

    @admin.display(description="live version")
    def live_version(self, project: Project) -> SafeString | str:
        live_id = getattr(project, "live_id", None)
        if live_id is None:
            return "—"
        url = reverse("admin:automations_automationversion_change", args=[live_id])
        return format_html('<a href="{}">{}</a>', url, project.live_label)  # type: ignore[attr-defined]

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
