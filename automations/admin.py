"""The ops team's admin of versions: each with its next step and its actions, added through
the registration service (as a build registers one through the API); and the deployments.
Clients and projects are in admin_projects.py.

The status field is read-only everywhere: it changes only through the services behind the
actions (see admin_actions.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, reverse
from django.utils.safestring import SafeString

from deployflow.admin_mixins import ReadOnlyAdminMixin
from deployflow.words import short

from .admin_actions import action_urls
from .admin_buttons import next_step, version_buttons, version_plan_restages
from .admin_display import (
    attempts_text,
    deployment_by,
    deployment_outcome,
    duration,
    status_badge,
    version_link,
    with_quiet_line,
    workflow_cell,
)
from .admin_projects import VERSION_HISTORY_FIELDS, DeploymentHistoryInline
from .errors import ServiceError
from .models import (
    PERM_DEPLOY,
    AutomationVersion,
    Deployment,
    DeploymentSource,
    VersionStatus,
    WorkflowBinding,
)
from .plan import deploy_plan
from .selectors import workflow_in_use
from .services import automation_version_register

VERSION_FIELDS = (
    "project",
    "version",
    "badge",
    "created_by",
    "approved_by",
    "approved_at",
    "created_at",
    "updated_at",
)


class WorkflowBindingInline(admin.StackedInline[WorkflowBinding, AutomationVersion]):
    model = WorkflowBinding
    # Bookkeeping such as when reconcile reported a hand activation stays out of sight.
    fields = ["workflow_id", "status", "monitoring_started_at"]
    readonly_fields = ["status", "monitoring_started_at"]
    extra = 0
    can_delete = False


class VersionDeploymentsInline(DeploymentHistoryInline):
    fk_name = "automation_version"
    history_fields = VERSION_HISTORY_FIELDS
    offers_rollback = False


class VersionAddForm(ModelForm[AutomationVersion]):
    """A version as ops register it: its project, its label and, once the build finished,
    its WRK workflow (without one, it waits in Draft for the build)."""

    workflow_id = forms.CharField(
        label="WRK workflow id",
        max_length=200,
        required=False,
        help_text="The workflow the finished build produced. Leave empty while the build "
        "runs: the version waits in Draft until the build registers it.",
    )

    class Meta:
        model = AutomationVersion
        fields = ["project", "version"]

    def clean_workflow_id(self) -> str:
        workflow_id: str = self.cleaned_data["workflow_id"].strip()
        if workflow_id and workflow_in_use(workflow_id=workflow_id):
            raise forms.ValidationError(
                "This workflow already serves another version: one WRK workflow serves one version."
            )
        return workflow_id


@admin.register(AutomationVersion)
class AutomationVersionAdmin(admin.ModelAdmin[AutomationVersion]):
    # Six columns, two facts paired in a cell where a column of its own would not fit at
    # 1280 px beside the filters: the project with its client, the workflow with its state.
    list_display = [
        "version",
        "project_and_client",
        "badge",
        "workflow",
        "approved_by_label",
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
    fields = VERSION_FIELDS
    inlines = [WorkflowBindingInline, VersionDeploymentsInline]

    @admin.display(description="status", ordering="status")
    def badge(self, version: AutomationVersion) -> SafeString:
        return status_badge(version.status)

    @admin.display(description="project", ordering="project__name")
    def project_and_client(self, version: AutomationVersion) -> SafeString:
        return with_quiet_line(version.project.name, version.project.client.name)

    @admin.display(description="workflow", ordering="workflow_binding__workflow_id")
    def workflow(self, version: AutomationVersion) -> SafeString | str:
        return workflow_cell(version)

    @admin.display(description="approved by", ordering="approved_by__username")
    def approved_by_label(self, version: AutomationVersion) -> str:
        return version.approved_by.get_username() if version.approved_by else "—"

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults, whose catch-all would read "<id>/deploy/" as a change page.
        return [*action_urls(self), *super().get_urls()]

    def get_readonly_fields(
        self, request: HttpRequest, obj: AutomationVersion | None = None
    ) -> list[str]:
        if obj is None:
            return []
        # Which project a version belongs to and its label are fixed once it exists.
        return ["project", "version", *self.readonly_fields]

    def get_fields(
        self, request: HttpRequest, obj: AutomationVersion | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ("project", "version", "workflow_id")
        return VERSION_FIELDS

    def get_form(
        self,
        request: HttpRequest,
        obj: AutomationVersion | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[ModelForm[AutomationVersion]]:
        if obj is None:
            kwargs["form"] = VersionAddForm
            kwargs["fields"] = ["project", "version"]
        return super().get_form(request, obj, change, **kwargs)

    def get_inlines(
        self, request: HttpRequest, obj: AutomationVersion | None
    ) -> list[type[admin.options.InlineModelAdmin[Any, Any]]]:
        # A new version gets its binding from the registration service, not an inline form.
        return list(self.inlines) if obj is not None else []

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if object_id is not None or request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        # Adding: the registration service runs its own short durable transaction, which
        # the admin's usual wrapping transaction would nest (and refuse).
        try:
            # Django's own changeform_view is this private method inside a transaction.
            return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined]
        except ServiceError as exc:
            # A race the form could not see (the same workflow registered meanwhile):
            # nothing was written.
            self.message_user(request, f"Not added: {exc.message}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(
        self, request: HttpRequest, obj: AutomationVersion, form: Any, change: bool
    ) -> None:
        # Existing versions have no change permission, so only an addition arrives here.
        assert not change
        user = request.user
        assert isinstance(user, User)
        registered = automation_version_register(
            project_id=obj.project_id,
            label=obj.version,
            workflow_id=form.cleaned_data.get("workflow_id") or None,
            actor=user,
            source=DeploymentSource.ADMIN,
        ).version
        # The admin goes on with `obj` (its log entry, its redirect): make it that row.
        obj.pk = registered.pk
        obj.created_by = registered.created_by
        obj._state.adding = False
        obj._state.db = registered._state.db

    def response_post_save_add(
        self, request: HttpRequest, obj: AutomationVersion
    ) -> HttpResponseRedirect:
        # To the new version's page, where its next step is (it has no change form).
        return HttpResponseRedirect(
            reverse("admin:automations_automationversion_change", args=[obj.pk])
        )

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
            plan = deploy_plan(version=obj, actor=user, restage=version_plan_restages(obj))
            binding = obj.binding_or_none()
            context.update(
                df_buttons=version_buttons(obj, user, plan),
                df_next_step=next_step(obj, user, plan),
                df_plan=plan,
                df_show_blockers=bool(plan.blockers)
                and obj.status not in (VersionStatus.DRAFT, VersionStatus.LIVE)
                and user.has_perm(PERM_DEPLOY),
                df_incident=binding if binding and binding.deactivation_failed_at else None,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Deployment]):
    list_display = ["started_at", "version", "outcome", "by", "attempts_label", "took"]
    list_filter = ["status", "source", "is_rollback", "project__client"]
    list_select_related = [
        "automation_version__project",
        "actor",
        "previous_version__workflow_binding",
    ]
    search_fields = ["automation_version__version", "project__name", "workflow_id"]
    date_hierarchy = "started_at"

    @admin.display(description="version", ordering="automation_version__version")
    def version(self, deployment: Deployment) -> SafeString:
        version = deployment.automation_version
        return with_quiet_line(version_link(version), version.project.name)

    @admin.display(description="outcome", ordering="status")
    def outcome(self, deployment: Deployment) -> SafeString:
        # The list has no error column (the deploy history has): a failure says why here.
        if deployment.error:
            return with_quiet_line(deployment_outcome(deployment), short(deployment.error))
        return deployment_outcome(deployment)

    @admin.display(description="by", ordering="actor__username")
    def by(self, deployment: Deployment) -> SafeString:
        return deployment_by(deployment)

    @admin.display(description="WRK attempts", ordering="attempts")
    def attempts_label(self, deployment: Deployment) -> str:
        return attempts_text(deployment.attempts)

    @admin.display(description="duration")
    def took(self, deployment: Deployment) -> str:
        return duration(deployment.started_at, deployment.finished_at)
