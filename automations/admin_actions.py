"""The version page's actions as admin views (`get_urls()` + `admin_site.admin_view`), the
way the audit CSV export and `delete_selected`'s confirmation are built: deploy (with its
confirmation page), approve, retry or roll back, and retry a deactivation.

Each view checks its permission first (403, nothing written) and then calls its service,
which checks permission and state again under a row lock whatever the page showed. The
outcome comes back as an admin message on the version page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from .deactivate import workflow_binding_deactivate
from .deploy import automation_version_deploy
from .errors import ErrorCode, ServiceError
from .models import (
    PERM_APPROVE,
    PERM_DEPLOY,
    PERM_RESTAGE,
    AutomationVersion,
    DeploymentSource,
    VersionStatus,
)
from .plan import DeployPlan, deploy_plan
from .selectors import version_get
from .services import automation_version_approve, automation_version_stage

ADMIN = DeploymentSource.ADMIN
CONFIRM_TEMPLATE = "admin/automations/automationversion/deploy_confirmation.html"


@dataclass(frozen=True, slots=True)
class ActionButton:
    name: str
    label: str
    url: str
    primary: bool = False


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def version_buttons(version: AutomationVersion, user: User, plan: DeployPlan) -> list[ActionButton]:
    """The actions that the version's state, the plan and the user's permissions allow."""

    def url(name: str) -> str:
        return reverse(f"admin:automations_automationversion_{name}", args=[version.pk])

    buttons = []
    hidden = {
        ErrorCode.PERMISSION_DENIED,
        ErrorCode.INVALID_TRANSITION,
        ErrorCode.APPROVAL_REQUIRED,
    }
    if version.status == VersionStatus.READY and not any(b.code in hidden for b in plan.blockers):
        buttons.append(
            ActionButton("mark_live", "Mark as Live / Deploy to Production", url("deploy"), True)
        )
    if (
        plan.approval_required
        and version.status == VersionStatus.READY
        and version.approved_by_id is None
        and user.has_perm(PERM_APPROVE)
    ):
        buttons.append(ActionButton("approve", "Approve for production", url("approve")))
    if user.has_perm(PERM_RESTAGE):
        if version.status == VersionStatus.ERROR:
            buttons.append(ActionButton("retry", "Retry: back to Ready to Launch", url("restage")))
        if version.status == VersionStatus.ARCHIVED:
            buttons.append(
                ActionButton("rollback", "Roll back: re-stage this version", url("restage"))
            )
    binding = version.binding_or_none()
    if binding is not None and binding.deactivation_pending and user.has_perm(PERM_DEPLOY):
        buttons.append(
            ActionButton(
                "retry_deactivation", "Retry deactivation of this workflow", url("deactivate")
            )
        )
    return buttons


VersionAdmin = admin.ModelAdmin[AutomationVersion]
View = Callable[[VersionAdmin, HttpRequest, str], HttpResponse]


def action_urls(modeladmin: VersionAdmin) -> list[URLPattern]:
    """The views below, under the version's admin URL (`…/<id>/deploy/` and so on)."""
    info = f"{modeladmin.opts.app_label}_{modeladmin.opts.model_name}"
    views: dict[str, View] = {
        "deploy": deploy_view,
        "approve": approve_view,
        "restage": restage_view,
        "deactivate": deactivate_view,
    }
    return [
        path(
            f"<path:object_id>/{name}/",
            modeladmin.admin_site.admin_view(partial(view, modeladmin)),
            name=f"{info}_{name}",
        )
        for name, view in views.items()
    ]


def _version(request: HttpRequest, object_id: str, permission: str) -> AutomationVersion:
    # Permission before existence: nothing is looked up for a user who may not act.
    if not request.user.has_perm(permission):
        raise PermissionDenied
    try:
        return version_get(version_id=int(unquote(object_id)))
    except (ValueError, ServiceError):
        raise Http404(f"No automation version with id {object_id[:100]!r}.") from None


def _back(version: AutomationVersion) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:automations_automationversion_change", args=[version.pk])
    )


def deploy_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: the confirmation page. POST: the deploy, then back to the version page."""
    version = _version(request, object_id, PERM_DEPLOY)
    if request.method == "GET":
        return _confirmation(modeladmin, request, version)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    say = partial(modeladmin.message_user, request)
    try:
        result = automation_version_deploy(
            version_id=version.pk, actor=_user(request), source=ADMIN
        )
    except ServiceError as exc:
        now = AutomationVersion.objects.get(pk=version.pk)
        if exc.code == ErrorCode.INVALID_TRANSITION and now.status == VersionStatus.LIVE:
            # A second click of a confirmation that already went through.
            say(f"{version} is already Live.", messages.INFO)
        else:
            tried = exc.code in {
                ErrorCode.ACTIVATION_FAILED,
                ErrorCode.DEPLOY_INCOMPLETE,
                ErrorCode.DEPLOY_RECONCILED,
            }
            say(f"{'Deploy failed' if tried else 'Deploy refused'}: {exc.message}", messages.ERROR)
        return _back(version)
    text = f"{version} is Live (WRK answered after {result.attempts} attempt(s))."
    if result.previous is not None:
        text += f" {result.previous.version} was archived."
    say(text, messages.SUCCESS)
    if result.deactivation == "failed":
        say(
            f"The previous workflow is still active: {result.deactivation_error} "
            "Use “Retry deactivation” on the archived version, or run `manage.py reconcile`.",
            messages.WARNING,
        )
    return _back(version)


def _confirmation(
    modeladmin: VersionAdmin, request: HttpRequest, version: AutomationVersion
) -> TemplateResponse:
    context: dict[str, Any] = {
        **modeladmin.admin_site.each_context(request),
        "title": "Deploy to production?",
        "subtitle": None,
        "opts": modeladmin.opts,
        "version": version,
        "plan": deploy_plan(version=version, actor=_user(request)),
    }
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


def approve_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    version = _version(request, object_id, PERM_APPROVE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        automation_version_approve(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        modeladmin.message_user(request, f"Approval refused: {exc.message}", messages.ERROR)
    else:
        modeladmin.message_user(
            request, f"{version} is approved. Another ops user can now deploy it.", messages.SUCCESS
        )
    return _back(version)


def restage_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Retry (from Error) or roll back (from Archived): back to Ready to Launch."""
    version = _version(request, object_id, PERM_RESTAGE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    say = partial(modeladmin.message_user, request)
    if version.status not in (VersionStatus.ERROR, VersionStatus.ARCHIVED):
        say(
            f"{version} is '{version.status}': only an Error or Archived version is re-staged "
            "here. Nothing was changed.",
            messages.ERROR,
        )
        return _back(version)
    rollback = version.status == VersionStatus.ARCHIVED
    try:
        automation_version_stage(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        say(f"Re-stage refused: {exc.message}", messages.ERROR)
    else:
        say(
            f"{version} is re-staged for a rollback: deploy it to make it Live again."
            if rollback
            else f"{version} is Ready to Launch again: deploy it when the cause is fixed.",
            messages.SUCCESS,
        )
    return _back(version)


def deactivate_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Retry the deactivation of an archived version's still-active workflow."""
    version = _version(request, object_id, PERM_DEPLOY)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    say = partial(modeladmin.message_user, request)
    binding = version.binding_or_none()
    if binding is None or not binding.deactivation_pending:
        say("Only an archived version's still-active workflow is deactivated.", messages.ERROR)
        return _back(version)
    result = workflow_binding_deactivate(binding=binding, actor=_user(request), origin=ADMIN)
    if result.ok:
        say(f"Workflow {binding.workflow_id} is deactivated.", messages.SUCCESS)
    else:
        say(result.error, messages.ERROR)
    return _back(version)
