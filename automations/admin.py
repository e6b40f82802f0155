"""The ops team's admin: versions with their deploy actions, projects with their history.

The status field is read-only everywhere: it changes only through the services behind the
actions (see admin_actions.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin import ActionLocation
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .admin_actions import CHANGE_FORM_ACTIONS, available_actions
from .admin_display import duration, status_badge
from .models import (
    PERM_APPROVE,
    PERM_DEPLOY,
    PERM_RESTAGE,
    AutomationVersion,
    Client,
    Deployment,
    Project,
    VersionStatus,
    WorkflowBinding,
)

ACTION_FIELD = f"{ActionLocation.CHANGE_FORM.value}-action"
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
    actions = CHANGE_FORM_ACTIONS

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

    def get_readonly_fields(
        self, request: HttpRequest, obj: AutomationVersion | None = None
    ) -> list[str]:
        # Which project a version belongs to and its label are fixed once it exists.
        fixed = ["project", "version"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_deploy_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_DEPLOY)

    def has_approve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_APPROVE)

    def has_restage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(PERM_RESTAGE)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The admin wraps this view in a transaction; an action calls WRK and opens its own
        # short transactions around that call, so it must run outside of it. Only the
        # action path skips it: saving the form keeps the admin's transaction. (Django has
        # no public hook; `_changeform_view` is what changeform_view wraps. Should it change,
        # the services' durable transactions fail loudly and the admin tests with them.)
        if request.method == "POST" and object_id and ACTION_FIELD in request.POST:
            return self._changeform_view(  # type: ignore[attr-defined]
                request, object_id, form_url, extra_context
            )
        return super().changeform_view(request, object_id, form_url, extra_context)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: AutomationVersion | None = None,
    ) -> HttpResponse:
        # Offer only what the version's state allows; permissions were filtered already.
        action_form = context.get("action_form")
        if action_form is not None and obj is not None:
            allowed = available_actions(obj)
            field = action_form.fields["action"]
            field.choices = [(name, label) for name, label in field.choices if name in allowed]
            context["df_actions"] = field.choices
            context["df_action_field"] = ACTION_FIELD
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
