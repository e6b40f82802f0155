"""The version page's actions: deploy (with its confirmation page), approve, retry,
roll back and retry deactivation. Each runs its service, which re-checks permission and
state on POST whatever the page showed; the outcome comes back as an admin message."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation, helpers
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from notifications.services import ops_email_recipients

from .deactivate import workflow_binding_deactivate
from .deploy import (
    automation_version_deploy,
    deploy_check,
    deploy_check_approval,
    deploy_require_permission,
)
from .errors import ErrorCode, ServiceError
from .models import AutomationVersion, BindingStatus, DeploymentSource, VersionStatus
from .selectors import live_version, ops_users
from .services import automation_version_approve, automation_version_restage

if TYPE_CHECKING:
    from .admin import AutomationVersionAdmin

ADMIN = DeploymentSource.ADMIN
CONFIRM_TEMPLATE = "admin/automations/automationversion/deploy_confirmation.html"


def _one(queryset: QuerySet[AutomationVersion]) -> AutomationVersion:
    return queryset.select_related("project__client", "workflow_binding", "approved_by").get()


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def deploy_blockers(version: AutomationVersion, user: User) -> list[str]:
    """Why a deploy would be refused now, in the service's own words (empty: it may go)."""
    blockers = []
    for check in (
        lambda: deploy_require_permission(actor=user),
        lambda: deploy_check(version=version),
        lambda: deploy_check_approval(version=version, actor=user),
    ):
        try:
            check()
        except ServiceError as exc:
            blockers.append(exc.message)
    return blockers


def _confirmation(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, version: AutomationVersion
) -> TemplateResponse:
    previous = live_version(project_id=version.project_id)
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "title": "Deploy to production?",
        "subtitle": None,
        "opts": modeladmin.model._meta,
        "version": version,
        "binding": version.binding_or_none(),
        "previous": previous,
        "previous_binding": previous.binding_or_none() if previous else None,
        "approval_required": settings.DEPLOY_REQUIRE_APPROVAL,
        "blockers": deploy_blockers(version, _user(request)),
        "collaborator_count": version.project.collaborators.count(),
        "ops_emails": ops_email_recipients(ops_users().values_list("email", flat=True)),
        "slack": bool(settings.SLACK_WEBHOOK_URL),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "action_field": f"{ActionLocation.CHANGE_FORM.value}-action",
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


@admin.action(
    description="Mark as Live / Deploy to Production",
    permissions=["deploy"],
    location=ActionLocation.CHANGE_FORM,
)
def mark_live(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, queryset: QuerySet[AutomationVersion]
) -> HttpResponse | None:
    version = _one(queryset)
    if request.POST.get("post") != "yes":
        return _confirmation(modeladmin, request, version)
    try:
        result = automation_version_deploy(
            version_id=version.pk, actor=_user(request), source=ADMIN
        )
    except ServiceError as exc:
        now = AutomationVersion.objects.get(pk=version.pk)
        if exc.code == ErrorCode.INVALID_TRANSITION and now.status == VersionStatus.LIVE:
            # A second click of a confirmation that already went through.
            modeladmin.message_user(request, f"{version} is already Live.", messages.INFO)
        else:
            tried = exc.code in {ErrorCode.ACTIVATION_FAILED, ErrorCode.DEPLOY_INCOMPLETE}
            prefix = "Deploy failed" if tried else "Deploy refused"
            modeladmin.message_user(request, f"{prefix}: {exc.message}", messages.ERROR)
        return None
    text = f"{version} is Live (WRK answered after {result.attempts} attempt(s))."
    if result.previous is not None:
        text += f" {result.previous.version} was archived."
    modeladmin.message_user(request, text, messages.SUCCESS)
    if result.deactivation == "failed":
        modeladmin.message_user(
            request,
            f"The previous workflow is still active: {result.deactivation_error} "
            "Use “Retry deactivation” on the archived version, or run `manage.py reconcile`.",
            messages.WARNING,
        )
    return None


@admin.action(
    description="Approve for production",
    permissions=["approve"],
    location=ActionLocation.CHANGE_FORM,
)
def approve(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, queryset: QuerySet[AutomationVersion]
) -> None:
    version = _one(queryset)
    try:
        automation_version_approve(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        modeladmin.message_user(request, f"Approval refused: {exc.message}", messages.ERROR)
        return
    modeladmin.message_user(
        request,
        f"{version} is approved. Another ops user can now deploy it.",
        messages.SUCCESS,
    )


def _restage(
    modeladmin: AutomationVersionAdmin,
    request: HttpRequest,
    queryset: QuerySet[AutomationVersion],
    *,
    expected: str,
    done: str,
) -> None:
    version = _one(queryset)
    if version.status != expected:
        modeladmin.message_user(
            request,
            f"{version} is '{version.status}', not '{expected}': nothing was changed.",
            messages.ERROR,
        )
        return
    try:
        automation_version_restage(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        modeladmin.message_user(request, f"Re-stage refused: {exc.message}", messages.ERROR)
        return
    modeladmin.message_user(request, done.format(version=version), messages.SUCCESS)


@admin.action(
    description="Retry: back to Ready to Launch",
    permissions=["restage"],
    location=ActionLocation.CHANGE_FORM,
)
def retry(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, queryset: QuerySet[AutomationVersion]
) -> None:
    _restage(
        modeladmin,
        request,
        queryset,
        expected=VersionStatus.ERROR,
        done="{version} is Ready to Launch again: deploy it when the cause is fixed.",
    )


@admin.action(
    description="Roll back: re-stage this version",
    permissions=["restage"],
    location=ActionLocation.CHANGE_FORM,
)
def rollback(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, queryset: QuerySet[AutomationVersion]
) -> None:
    _restage(
        modeladmin,
        request,
        queryset,
        expected=VersionStatus.ARCHIVED,
        done="{version} is re-staged for a rollback: deploy it to make it Live again.",
    )


@admin.action(
    description="Retry deactivation of this workflow",
    permissions=["deploy"],
    location=ActionLocation.CHANGE_FORM,
)
def retry_deactivation(
    modeladmin: AutomationVersionAdmin, request: HttpRequest, queryset: QuerySet[AutomationVersion]
) -> None:
    version = _one(queryset)
    binding = version.binding_or_none()
    if (
        binding is None
        or binding.status != BindingStatus.ACTIVE
        or version.status != VersionStatus.ARCHIVED
    ):
        modeladmin.message_user(
            request,
            "Only an archived version's still-active workflow is deactivated.",
            messages.ERROR,
        )
        return
    result = workflow_binding_deactivate(binding=binding, actor=_user(request), origin=ADMIN)
    if result.ok:
        modeladmin.message_user(
            request, f"Workflow {binding.workflow_id} is deactivated.", messages.SUCCESS
        )
    else:
        modeladmin.message_user(request, result.error, messages.ERROR)


def available_actions(version: AutomationVersion) -> set[str]:
    """Which of the actions above make sense for the version as it is now."""
    names = set()
    binding = version.binding_or_none()
    if version.status == VersionStatus.READY and binding is not None:
        if binding.status != BindingStatus.ERROR:
            names.add("mark_live")
        if settings.DEPLOY_REQUIRE_APPROVAL and version.approved_by_id is None:
            names.add("approve")
    if version.status == VersionStatus.ERROR:
        names.add("retry")
    if version.status == VersionStatus.ARCHIVED:
        names.add("rollback")
        if binding is not None and binding.status == BindingStatus.ACTIVE:
            names.add("retry_deactivation")
    return names


CHANGE_FORM_ACTIONS = [mark_live, approve, retry, rollback, retry_deactivation]
