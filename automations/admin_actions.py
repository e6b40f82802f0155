"""The version page's actions as admin views (`get_urls()` + `admin_site.admin_view`), the
way the audit CSV export and `delete_selected`'s confirmation are built.

- deploy, redeploy (retry from Error, roll back from Archived: staged, then deployed) and
  adopt (a manual activation in WRK): one confirmation page each (GET), then the action;
- approve and revoke an approval: a confirmation page each, then the action;
- mark ready (Draft), re-stage for an approval, retry a deactivation: act at once.

Each view checks its permission first (403, nothing written) and then calls its service,
which checks permission and state again under a row lock whatever the page showed. The
outcome comes back as an admin message on the version page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from django.conf import settings
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

from deployflow.words import attempts

from .deactivate import workflow_binding_deactivate
from .deploy import (
    DeployResult,
    automation_version_adopt,
    automation_version_deploy,
    automation_version_redeploy,
    wrk_reports_active,
)
from .errors import ErrorCode, ServiceError
from .models import (
    PERM_APPROVE,
    PERM_DEPLOY,
    PERM_MARK_READY,
    PERM_RESTAGE,
    AutomationVersion,
    DeploymentSource,
    VersionStatus,
)
from .plan import RESTAGEABLE, deploy_plan
from .selectors import version_get
from .services import (
    approval_refusal,
    automation_version_approve,
    automation_version_revoke_approval,
    automation_version_stage,
)

ADMIN = DeploymentSource.ADMIN
CONFIRM_TEMPLATE = "admin/automations/automationversion/deploy_confirmation.html"
APPROVAL_TEMPLATE = "admin/automations/automationversion/approval_confirmation.html"
Mode = Literal["deploy", "redeploy", "adopt"]
# The permissions each deploy mode needs, checked before the version is looked up.
MODE_PERMISSIONS: dict[Mode, tuple[str, ...]] = {
    "deploy": (PERM_DEPLOY,),
    "redeploy": (PERM_DEPLOY, PERM_RESTAGE),
    "adopt": (PERM_DEPLOY, PERM_RESTAGE),
}

VersionAdmin = admin.ModelAdmin[AutomationVersion]
View = Callable[[VersionAdmin, HttpRequest, str], HttpResponse]


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def action_urls(modeladmin: VersionAdmin) -> list[URLPattern]:
    """The views below, under the version's admin URL (`…/<id>/deploy/` and so on)."""
    info = f"{modeladmin.opts.app_label}_{modeladmin.opts.model_name}"
    views: dict[str, View] = {
        "deploy": partial(deploy_view, mode="deploy"),
        "redeploy": partial(deploy_view, mode="redeploy"),
        "adopt": partial(deploy_view, mode="adopt"),
        "approve": partial(approval_view, revoke=False),
        "revoke": partial(approval_view, revoke=True),
        "mark_ready": mark_ready_view,
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


def _version(request: HttpRequest, object_id: str, *permissions: str) -> AutomationVersion:
    # Permission before existence: nothing is looked up for a user who may not act.
    if not all(request.user.has_perm(permission) for permission in permissions):
        raise PermissionDenied
    try:
        return version_get(version_id=int(unquote(object_id)))
    except (ValueError, ServiceError):
        raise Http404(f"No automation version with id {object_id[:100]!r}.") from None


def _back(version: AutomationVersion) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:automations_automationversion_change", args=[version.pk])
    )


def _context(
    modeladmin: VersionAdmin, request: HttpRequest, version: AutomationVersion, title: str
) -> dict[str, Any]:
    return {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "opts": modeladmin.opts,
        "version": version,
    }


CONFIRM_TITLES: dict[Mode, str] = {
    "deploy": "Deploy to production?",
    "redeploy": "Retry the deploy?",
    "adopt": "Adopt the activation done in WRK?",
}


def deploy_view(
    modeladmin: VersionAdmin, request: HttpRequest, object_id: str, *, mode: Mode
) -> HttpResponse:
    """GET: the confirmation page. POST: the deploy, then back to the version page."""
    version = _version(request, object_id, *MODE_PERMISSIONS[mode])
    if request.method == "GET":
        return _confirmation(modeladmin, request, version, mode)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    say = partial(modeladmin.message_user, request)
    actor = _user(request)
    try:
        service = {
            "deploy": automation_version_deploy,
            "redeploy": automation_version_redeploy,
            "adopt": automation_version_adopt,
        }[mode]
        result = service(version_id=version.pk, actor=actor, source=ADMIN)
    except ServiceError as exc:
        _say_refusal(say, version, exc)
        return _back(version)
    _say_success(say, version, result)
    return _back(version)


def _say_refusal(say: Callable[..., None], version: AutomationVersion, exc: ServiceError) -> None:
    now = AutomationVersion.objects.get(pk=version.pk)
    if exc.code == ErrorCode.INVALID_TRANSITION and now.status == VersionStatus.LIVE:
        # A second click of a confirmation that already went through.
        say(f"{version} is already Live.", messages.INFO)
        return
    tried = exc.code in {
        ErrorCode.ACTIVATION_FAILED,
        ErrorCode.DEPLOY_INCOMPLETE,
        ErrorCode.DEPLOY_RECONCILED,
    }
    text = f"{'Deploy failed' if tried else 'Deploy refused'}: {exc.message}"
    if now.status != version.status:
        # A retry or a rollback staged the version before its deploy was refused.
        text += f" The version is now '{now.status}'."
    say(text, messages.ERROR)


def _say_success(
    say: Callable[..., None], version: AutomationVersion, result: DeployResult
) -> None:
    if result.attempts is None:
        text = (
            f"{version} is Live: the activation done in WRK was adopted "
            "(WRK was not asked to activate it again)."
        )
    else:
        text = f"{version} is Live (WRK answered after {attempts(result.attempts)})."
    if result.previous is not None:
        text += f" {result.previous.version} was archived."
    say(text, messages.SUCCESS)
    if result.deactivation == "failed":
        say(
            f"The previous workflow is still active: {result.deactivation_error} "
            "Use “Retry deactivation” on the archived version, or run manage.py reconcile.",
            messages.WARNING,
        )


def _confirmation(
    modeladmin: VersionAdmin, request: HttpRequest, version: AutomationVersion, mode: Mode
) -> TemplateResponse:
    plan = deploy_plan(
        version=version, actor=_user(request), restage=mode == "redeploy", adopt=mode == "adopt"
    )
    context = _context(modeladmin, request, version, CONFIRM_TITLES[mode])
    context.update(
        plan=plan,
        mode=mode,
        action_url=f"admin:automations_automationversion_{mode}",
        wrk_active=None,
        wrk_error="",
    )
    if mode == "redeploy" and version.status == VersionStatus.ARCHIVED:
        context["title"] = f"Roll back to {version.version}?"
    if mode == "adopt" and plan.allowed and plan.workflow_id is not None:
        # What WRK says now; the POST asks again, and refuses unless it is active.
        try:
            context["wrk_active"] = wrk_reports_active(workflow_id=plan.workflow_id)
        except ServiceError as exc:
            context["wrk_error"] = exc.message
    return TemplateResponse(request, CONFIRM_TEMPLATE, context)


def approval_view(
    modeladmin: VersionAdmin, request: HttpRequest, object_id: str, *, revoke: bool
) -> HttpResponse:
    """GET: the confirmation page. POST: approve (or revoke), then back to the version."""
    version = _version(request, object_id, PERM_APPROVE)
    if request.method == "GET":
        title = "Revoke the approval?" if revoke else "Approve for production?"
        context = _context(modeladmin, request, version, title)
        context["revoke"] = revoke
        if not revoke:
            context["refusal"] = approval_refusal(version=version, actor=_user(request))
        return TemplateResponse(request, APPROVAL_TEMPLATE, context)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    say = partial(modeladmin.message_user, request)
    service = automation_version_revoke_approval if revoke else automation_version_approve
    try:
        after = service(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        say(f"{'Revoke' if revoke else 'Approval'} refused: {exc.message}", messages.ERROR)
        return _back(version)
    if revoke:
        say(f"{version} needs a new approval before it deploys.", messages.SUCCESS)
    elif after.approved_by_id == request.user.pk:
        say(f"{version} is approved. Another ops user can now deploy it.", messages.SUCCESS)
    else:
        assert after.approved_by is not None
        say(
            f"{version} was approved already, by {after.approved_by.get_username()}.",
            messages.INFO,
        )
    return _back(version)


def mark_ready_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Draft → Ready to Launch, once the build registered its workflow."""
    return _stage(modeladmin, request, object_id, PERM_MARK_READY, (VersionStatus.DRAFT,))


def restage_view(modeladmin: VersionAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Error or Archived → Ready to Launch without deploying: where a retry or a rollback
    must be approved first (approvals are given to Ready to Launch versions)."""
    return _stage(modeladmin, request, object_id, PERM_RESTAGE, tuple(RESTAGEABLE))


def _stage(
    modeladmin: VersionAdmin,
    request: HttpRequest,
    object_id: str,
    permission: str,
    sources: tuple[str, ...],
) -> HttpResponse:
    version = _version(request, object_id, permission)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    say = partial(modeladmin.message_user, request)
    if version.status not in sources:
        say(
            f"{version} is '{version.status}': this action stages a version in "
            f"{' or '.join(repr(s) for s in sources)}. Nothing was changed.",
            messages.ERROR,
        )
        return _back(version)
    try:
        staged = automation_version_stage(version_id=version.pk, actor=_user(request), source=ADMIN)
    except ServiceError as exc:
        say(f"Refused: {exc.message}", messages.ERROR)
        return _back(version)
    waits = ""
    if settings.DEPLOY_REQUIRE_APPROVAL and staged.approved_by_id is None:
        waits = " It needs the approval of another ops user before it deploys; they were asked."
    say(f"{version} is Ready to Launch.{waits}", messages.SUCCESS)
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
