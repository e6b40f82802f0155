"""Admin registration. The deploy button, approvals and history come with the admin issue;
here the status is read-only so that it changes only through the services."""

from django.contrib import admin

from deployflow.admin_mixins import ReadOnlyAdminMixin

from .models import AutomationVersion, Client, Deployment, Project, WorkflowBinding


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ["name", "slug", "contact_email"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ["name", "client", "status"]
    list_filter = ["status", "client"]
    list_select_related = ["client"]
    search_fields = ["name", "slug"]
    readonly_fields = ["status"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["collaborators"]


class WorkflowBindingInline(admin.StackedInline[WorkflowBinding, AutomationVersion]):
    model = WorkflowBinding
    readonly_fields = ["status", "monitoring_started_at"]
    extra = 0


@admin.register(AutomationVersion)
class AutomationVersionAdmin(admin.ModelAdmin[AutomationVersion]):
    list_display = ["__str__", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["project"]
    search_fields = ["version", "project__name", "workflow_binding__workflow_id"]
    readonly_fields = ["status", "created_by", "created_at", "updated_at"]
    inlines = [WorkflowBindingInline]


@admin.register(Deployment)
class DeploymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Deployment]):
    list_display = ["automation_version", "status", "source", "actor", "attempts", "started_at"]
    list_filter = ["status", "source"]
    list_select_related = ["automation_version__project", "actor"]
