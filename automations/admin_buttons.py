"""What the version page offers: its next step in words, and the buttons of the actions
that its state, the deploy plan and the user's permissions allow (see admin_actions.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.urls import reverse

from .errors import ErrorCode
from .models import (
    PERM_APPROVE,
    PERM_DEPLOY,
    PERM_MARK_READY,
    PERM_RESTAGE,
    AutomationVersion,
    VersionStatus,
)
from .plan import RESTAGEABLE, DeployPlan
from .services import self_approval_refused

# Blockers that mean "not for you, not now": the button is not shown at all. Others (no
# binding, binding in error, a deploy running) keep it, and its page says why it is refused.
HIDDEN = frozenset(
    {ErrorCode.PERMISSION_DENIED, ErrorCode.INVALID_TRANSITION, ErrorCode.APPROVAL_REQUIRED}
)


@dataclass(frozen=True, slots=True)
class ActionButton:
    name: str
    label: str
    url: str
    primary: bool = False
    # A link to a confirmation page (GET) rather than a form that acts at once (POST).
    confirms: bool = False


def _url(version: AutomationVersion, name: str) -> str:
    return reverse(f"admin:automations_automationversion_{name}", args=[version.pk])


def _usable(plan: DeployPlan) -> bool:
    return not any(blocker.code in HIDDEN for blocker in plan.blockers)


def _approval_blocks(plan: DeployPlan) -> bool:
    return any(blocker.code == ErrorCode.APPROVAL_REQUIRED for blocker in plan.blockers)


def version_plan_restages(version: AutomationVersion) -> bool:
    """The page's plan: an Error or Archived version deploys by being staged first."""
    return version.status in RESTAGEABLE


def version_buttons(version: AutomationVersion, user: User, plan: DeployPlan) -> list[ActionButton]:
    """`plan` is the page's plan (restaging for an Error or Archived version)."""
    status = version.status
    buttons = []
    if status == VersionStatus.DRAFT:
        if version.binding_or_none() is not None and user.has_perm(PERM_MARK_READY):
            buttons.append(
                ActionButton(
                    "mark_ready", "Mark Ready to Launch", _url(version, "mark_ready"), True
                )
            )
    elif status == VersionStatus.READY and _usable(plan):
        buttons.append(
            ActionButton(
                "mark_live",
                "Mark as Live / Deploy to Production",
                _url(version, "deploy"),
                primary=True,
                confirms=True,
            )
        )
    elif status in RESTAGEABLE and _usable(plan):
        label = "Retry deploy" if status == VersionStatus.ERROR else "Roll back to this version"
        name = "retry" if status == VersionStatus.ERROR else "rollback"
        buttons.append(
            ActionButton(name, label, _url(version, "redeploy"), primary=True, confirms=True)
        )
        if status == VersionStatus.ERROR:
            buttons.append(
                ActionButton(
                    "adopt",
                    "Adopt the activation done in WRK",
                    _url(version, "adopt"),
                    confirms=True,
                )
            )
    if status in RESTAGEABLE and _approval_blocks(plan) and user.has_perm(PERM_RESTAGE):
        # The one-step retry or rollback waits for an approval, which is given to a version
        # in Ready to Launch: stage it first.
        buttons.append(ActionButton("restage", "Re-stage for approval", _url(version, "restage")))
    buttons.extend(_approval_buttons(version, user, plan))
    binding = version.binding_or_none()
    if binding is not None and binding.deactivation_pending and user.has_perm(PERM_DEPLOY):
        buttons.append(
            ActionButton(
                "retry_deactivation",
                "Retry deactivation of this workflow",
                _url(version, "deactivate"),
            )
        )
    return buttons


def _approval_buttons(
    version: AutomationVersion, user: User, plan: DeployPlan
) -> list[ActionButton]:
    if not user.has_perm(PERM_APPROVE):
        return []
    if version.approved_by_id is not None:
        if version.status == VersionStatus.LIVE:
            return []
        return [ActionButton("revoke", "Revoke approval", _url(version, "revoke"), confirms=True)]
    if (
        plan.approval_required
        and version.status == VersionStatus.READY
        and not self_approval_refused(version=version, actor=user)
    ):
        return [
            ActionButton(
                "approve", "Approve for production", _url(version, "approve"), confirms=True
            )
        ]
    return []


def next_step(version: AutomationVersion, user: User, plan: DeployPlan) -> str:
    """The version's next step, in words, whatever the user may do about it."""
    status = version.status
    binding = version.binding_or_none()
    if status == VersionStatus.DRAFT:
        if binding is None:
            return (
                "Waiting for its build: the build has not registered a workflow yet "
                "(POST /v1/automation-versions). Then mark it Ready to Launch."
            )
        return f"The build registered workflow {binding.workflow_id}: mark it Ready to Launch."
    if status == VersionStatus.READY:
        return _ready_step(version, user, plan)
    if status == VersionStatus.LIVE:
        return "Live in production. To replace it, deploy a newer version."
    if status == VersionStatus.ERROR:
        return (
            "The deploy failed (see the deploy history below). Fix the cause, then Retry "
            "deploy; if someone activated the workflow by hand in WRK, adopt that activation."
        )
    step = "Archived: a newer version replaced it. Roll back to make it Live again."
    if binding is not None and binding.deactivation_pending:
        step += (
            f" WRK never confirmed that its workflow {binding.workflow_id} stopped: retry "
            "the deactivation (or manage.py reconcile will)."
        )
    return step


def _ready_step(version: AutomationVersion, user: User, plan: DeployPlan) -> str:
    approver = version.approved_by
    if approver is not None:
        if approver.pk == user.pk:
            return "You approved it: another ops user deploys it."
        return f"Approved by {approver.get_username()}: deploy it to production."
    if not plan.approval_required:
        return "Ready: review the confirmation page, then deploy it to production."
    if self_approval_refused(version=version, actor=user):
        return "You registered it: another ops user must approve it before it can deploy."
    if user.has_perm(PERM_APPROVE):
        return "Waiting for approval: approve it, and another ops user will deploy it."
    return "Waiting for the approval of an ops user."
