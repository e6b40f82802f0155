"""`deploy_plan`: the one answer to "can this version deploy, and what would happen?".

The deploy service validates its claim with it (under the row lock), and the confirmation
page, the version page's buttons, `redeploy --dry-run` and the API read it: the rules of
SPEC §4.2–§4.4 are written here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from .errors import ErrorCode, ServiceError
from .models import (
    PERM_DEPLOY,
    PERM_RESTAGE,
    AutomationVersion,
    Deployment,
    DeploymentStatus,
    VersionStatus,
    WorkflowBinding,
)
from .selectors import live_version, ops_emails

RESTAGEABLE = frozenset({VersionStatus.ERROR, VersionStatus.ARCHIVED})


@dataclass(frozen=True, slots=True)
class Blocker:
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Audience:
    """Who hears of a successful deploy (SPEC §4.9)."""

    client_contact: str
    ops_emails: list[str]
    collaborators: int
    slack: bool


class _Unknown:
    """`previous` not looked up yet (None means "there is no Live version")."""


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class DeployPlan:
    version: AutomationVersion
    actor: User | None
    blockers: tuple[Blocker, ...]
    # Error or Archived: staged back to Ready to Launch first (a retry or a rollback).
    restage_first: bool
    # It was Live before: deploying it again brings an old version back.
    is_rollback: bool
    # The Live version that goes to Archived, if any.
    previous: AutomationVersion | None
    # Another deploy of the project holding its lock, if any (not looked up under the lock,
    # where the database's constraint decides).
    in_progress: Deployment | None = None
    # Adopt the activation ops made by hand in WRK: the same deploy, recorded once WRK
    # reports the workflow active, without asking WRK to activate it.
    adopt: bool = False

    @property
    def allowed(self) -> bool:
        return not self.blockers

    @property
    def binding(self) -> WorkflowBinding | None:
        return self.version.binding_or_none()

    @property
    def workflow_id(self) -> str | None:
        binding = self.binding
        return binding.workflow_id if binding is not None else None

    @property
    def deactivates(self) -> str | None:
        """The workflow WRK is asked to deactivate once this one is active."""
        if self.previous is None:
            return None
        binding = self.previous.binding_or_none()
        return binding.workflow_id if binding is not None else None

    @property
    def approval_required(self) -> bool:
        return bool(settings.DEPLOY_REQUIRE_APPROVAL)

    @cached_property
    def audience(self) -> Audience:
        project = self.version.project
        return Audience(
            client_contact=project.client.contact_email,
            ops_emails=ops_emails(),
            collaborators=project.collaborators.count(),
            slack=bool(settings.SLACK_WEBHOOK_URL),
        )

    def raise_if_blocked(self) -> None:
        if self.blockers:
            first = self.blockers[0]
            raise ServiceError(first.code, first.message)

    def steps(self) -> list[str]:
        """What the deploy would do, in order, in words (redeploy --dry-run, the API)."""
        version = self.version
        lines = []
        if self.adopt:
            lines.append(
                f"ask WRK whether workflow {self.workflow_id} is active (activated by hand); "
                "if not, stop and change nothing"
            )
        if self.restage_first:
            kind = "roll back" if version.status == VersionStatus.ARCHIVED else "retry"
            if self.adopt:
                kind = "adopt"
            lines.append(f"re-stage {version.version} from '{version.status}' ({kind})")
        if self.adopt:
            lines.append(f"record workflow {self.workflow_id} as active, without activating it")
        else:
            lines.append(f"activate workflow {self.workflow_id} on WRK")
        lines.append(f"make {version.project.name} {version.version} Live")
        if self.previous is not None:
            deactivates = self.deactivates or "no workflow"
            lines.append(f"archive {self.previous.version} and deactivate {deactivates}")
        return lines


def deploy_plan(
    *,
    version: AutomationVersion,
    actor: User | None,
    restage: bool = False,
    adopt: bool = False,
    previous: AutomationVersion | _Unknown | None = UNKNOWN,
    check_in_progress: bool = True,
) -> DeployPlan:
    """The plan for deploying `version` as `actor` (None: the system).

    `restage`: an Error or Archived version may be deployed by staging it first, as the
    admin's retry and rollback and `redeploy` do. `adopt`: a version in Error whose workflow
    ops activated by hand in WRK is staged and recorded Live without an activate call (the
    service asks WRK first; the plan cannot). `previous` is the project's Live version
    when the caller has it already (the deploy's claim locks it in the same query);
    `check_in_progress` is off under that lock, where the unique constraint decides.
    """
    if isinstance(previous, _Unknown):
        previous = live_version(project_id=version.project_id)
    if previous is not None and previous.pk == version.pk:
        previous = None
    in_progress = _deploy_in_progress(version) if check_in_progress else None
    if adopt:
        restage_first = version.status == VersionStatus.ERROR
    else:
        restage_first = restage and version.status in RESTAGEABLE
    blockers = [
        *_permission_blockers(actor, restage_first=restage_first),
        *_state_blockers(version, restage_first=restage_first, adopt=adopt),
        *_approval_blockers(version, actor),
    ]
    if in_progress is not None:
        blockers.append(Blocker(ErrorCode.DEPLOY_IN_PROGRESS, in_progress_message(in_progress)))
    was_live = getattr(version, "was_live", None)
    if was_live is None:
        was_live = version.status == VersionStatus.ARCHIVED or _was_live(version)
    return DeployPlan(
        version=version,
        actor=actor,
        blockers=tuple(blockers),
        restage_first=restage_first,
        is_rollback=bool(was_live),
        previous=previous,
        in_progress=in_progress,
        adopt=adopt,
    )


def _permission_blockers(actor: User | None, *, restage_first: bool) -> list[Blocker]:
    if actor is None:
        return []
    if not actor.has_perm(PERM_DEPLOY):
        return [
            Blocker(
                ErrorCode.PERMISSION_DENIED,
                "You do not have permission to deploy to production.",
            )
        ]
    if restage_first and not actor.has_perm(PERM_RESTAGE):
        return [
            Blocker(
                ErrorCode.PERMISSION_DENIED,
                "You do not have permission to re-stage a version (retry or roll back).",
            )
        ]
    return []


def _state_blockers(
    version: AutomationVersion, *, restage_first: bool, adopt: bool = False
) -> list[Blocker]:
    blockers = []
    if adopt and version.status != VersionStatus.ERROR:
        blockers.append(
            Blocker(
                ErrorCode.INVALID_TRANSITION,
                f"Only a version in 'Error' can adopt an activation done by hand in WRK; "
                f"version {version.version} is '{version.status}'.",
            )
        )
    elif version.status != VersionStatus.READY and not restage_first:
        blockers.append(
            Blocker(
                ErrorCode.INVALID_TRANSITION,
                f"Only a version in 'Ready to Launch' can go Live; version {version.version} "
                f"is '{version.status}'.",
            )
        )
    binding = version.binding_or_none()
    if binding is None:
        blockers.append(
            Blocker(
                ErrorCode.NO_WORKFLOW_BINDING,
                f"Version {version.version} has no workflow binding: the build must complete "
                "first.",
            )
        )
    elif not binding.deployable:
        blockers.append(
            Blocker(
                ErrorCode.WORKFLOW_BINDING_ERROR,
                f"The workflow binding {binding.workflow_id} is in error: fix the build, then "
                "deploy again.",
            )
        )
    return blockers


def _approval_blockers(version: AutomationVersion, actor: User | None) -> list[Blocker]:
    """SPEC §4.3: with DEPLOY_REQUIRE_APPROVAL, a second ops user must have approved."""
    if not settings.DEPLOY_REQUIRE_APPROVAL:
        return []
    if version.approved_by_id is None:
        return [
            Blocker(
                ErrorCode.APPROVAL_REQUIRED,
                f"Version {version.version} needs the approval of a second ops user before it "
                "can go Live.",
            )
        ]
    if actor is not None and version.approved_by_id == actor.pk:
        return [
            Blocker(
                ErrorCode.APPROVAL_REQUIRED,
                "You approved this version yourself: another ops user must deploy it (four eyes).",
            )
        ]
    return []


def _deploy_in_progress(version: AutomationVersion) -> Deployment | None:
    return (
        Deployment.objects.select_related("automation_version", "actor")
        .filter(project_id=version.project_id, status=DeploymentStatus.IN_PROGRESS)
        .first()
    )


def _was_live(version: AutomationVersion) -> bool:
    return Deployment.objects.filter(
        automation_version=version, status=DeploymentStatus.SUCCEEDED
    ).exists()


def in_progress_message(running: Deployment) -> str:
    """Say whose deploy holds the project, and what to do if it will never finish."""
    who = running.actor.get_username() if running.actor else "the system"
    age = (timezone.now() - running.started_at).total_seconds()
    message = (
        f"{running.automation_version.version} is being deployed by {who} "
        f"(started {age:.0f} s ago); wait for it to finish."
    )
    if age > settings.DEPLOY_STALE_AFTER_SECONDS:
        message += " It looks interrupted: `manage.py reconcile` will finish or fail it."
    return message


def require_deploy_permission(*, actor: User | None) -> None:
    """The permission part of the plan, checked before a version is even looked up, so that
    a user without it learns nothing of which ids exist."""
    for blocker in _permission_blockers(actor, restage_first=False):
        raise ServiceError(blocker.code, blocker.message)
