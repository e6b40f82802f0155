"""The ops team's admin: versions with their deploy actions, projects with their history.

The status field is read-only everywhere: it changes only through the services behind the
actions (see admin_actions.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .admin_actions import action_urls, version_buttons
from .admin_display import duration, status_badge
from .models import (
    AutomationVersion,
    Client,
    Deployment,
    Project,
    VersionStatus,
    WorkflowBinding,
)
from .plan import deploy_plan

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
    fields = HISTORY_FIELDS
    readonly_fields = HISTORY_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deployment]:
        return super().get_queryset(request).select_related("automation_version", "actor")

    @admin.display(description="version")
    def version_link(self, deployment: Deployment) -> SafeString:
        version = deployment.automation_version
        url = reverse("admin:automations_automationversion_change", args=[version.pk])
        return format_html('<a href="{}">{}</a>', url, version.version)

    @admin.display(description="outcome")
    def outcome(self, deployment: Deployment) -> SafeString:
        return status_badge(deployment.status)

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
    def workflow(self, version: AutomationVersion) -> str:
        binding = version.binding_or_none()
        return binding.workflow_id if binding else "—"


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["name", "client", "badge", "live_version", "updated_at"]
    list_filter = ["status", "client"]
    list_select_related = ["client"]
    search_fields = ["name", "slug", "client__name"]
    readonly_fields = ["status"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["collaborators"]
    inlines = [VersionInline, DeploymentHistoryInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Project]:
        live = AutomationVersion.objects.filter(
            project=OuterRef("pk"), status=VersionStatus.LIVE
        ).values("version")[:1]
        return super().get_queryset(request).annotate(live_label=Subquery(live))

    @admin.display(description="status", ordering="status")
    def badge(self, project: Project) -> SafeString:
        return status_badge(project.status)

    @admin.display(description="live version")
    def live_version(self, project: Project) -> str:
        return getattr(project, "live_label", None) or "—"


class WorkflowBindingInline(admin.StackedInline[WorkflowBinding, AutomationVersion]):
    model = WorkflowBinding
    # Bookkeeping such as when reconcile reported a hand activation stays out of sight.
    fields = ["workflow_id", "status", "monitoring_started_at"]
    readonly_fields = ["status", "monitoring_started_at"]
    extra = 0
    can_delete = False


class VersionDeploymentsInline(DeploymentHistoryInline):
    fk_name = "automation_version"
    fields = VERSION_HISTORY_FIELDS
    readonly_fields = VERSION_HISTORY_FIELDS


@admin.register(AutomationVersion)
class AutomationVersionAdmin(admin.ModelAdmin[AutomationVersion]):
    list_display = [
        "version",
        "project",
        "client",
        "badge",
        "workflow",
        "binding_badge",
        "approved_by",
        "created_at",
    ]
    list_display_links = ["version"]
    list_filter = ["status", "project__client", "project"]
    list_select_related = ["project__client", "workflow_binding", "approved_by"]
    search_fields = [
        "version",
        "project__name",
        "project__slug",
        "workflow_binding__workflow_id",
    ]
    readonly_fields = [
        "badge",
        "created_by",
        "approved_by",
        "approved_at",
        "created_at",
        "updated_at",
    ]
    fields = [
        "project",
        "version",
        "badge",
        "created_by",
        "approved_by",
        "approved_at",
        "created_at",
        "updated_at",
    ]
    inlines = [WorkflowBindingInline, VersionDeploymentsInline]

    @admin.display(description="status", ordering="status")
    def badge(self, version: AutomationVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="client", ordering="project__client__name")
    def client(self, version: AutomationVersion) -> str:
        return version.project.client.name

    @admin.display(description="workflow", ordering="workflow_binding__workflow_id")
    def workflow(self, version: AutomationVersion) -> str:
        binding = version.binding_or_none()
        return binding.workflow_id if binding else "—"

    @admin.display(description="binding")
    def binding_badge(self, version: AutomationVersion) -> SafeString | str:
        binding = version.binding_or_none()
        return status_badge(binding.status) if binding else "—"

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults, whose catch-all would read "<id>/deploy/" as a change page.
        return [*action_urls(self), *super().get_urls()]

    def get_readonly_fields(
        self, request: HttpRequest, obj: AutomationVersion | None = None
    ) -> list[str]:
        # Which project a version belongs to and its label are fixed once it exists.
        fixed = ["project", "version"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_change_permission(
        self, request: HttpRequest, obj: AutomationVersion | None = None
    ) -> bool:
        # An existing version has nothing to edit by hand: its label and project are fixed
        # and its status moves only through the action views. Refusing the change
        # permission makes a POST to its page a 403 that writes nothing, whoever sends it.
        if obj is not None:
            return False
        return super().has_change_permission(request, obj)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: AutomationVersion | None = None,
    ) -> HttpResponse:
        if obj is not None:
            user = request.user
            assert isinstance(user, User)
            plan = deploy_plan(version=obj, actor=user)
            context["df_buttons"] = version_buttons(obj, user, plan)
            context["df_plan"] = plan
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Deployment]):
    list_display = [
        "started_at",
        "automation_version",
        "actor",
        "source",
        "outcome",
        "attempts",
        "took",
        "is_rollback",
    ]
    list_filter = ["status", "source", "is_rollback", "project__client"]
    list_select_related = ["automation_version__project", "actor"]
    search_fields = ["automation_version__version", "project__name", "workflow_id"]
    date_hierarchy = "started_at"

    @admin.display(description="outcome", ordering="status")
    def outcome(self, deployment: Deployment) -> SafeString:
        return status_badge(deployment.status)

    @admin.display(description="duration")
    def took(self, deployment: Deployment) -> str:
        return duration(deployment.started_at, deployment.finished_at)
