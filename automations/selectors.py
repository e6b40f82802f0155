"""Reads of the automations app."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef, Q, QuerySet

from .errors import ErrorCode, ServiceError
from .models import (
    PENDING_DEACTIVATION,
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    VersionStatus,
    WorkflowBinding,
)

OPS_GROUP = "Ops"


def _not_found(version_id: int) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"Automation version {version_id} does not exist.")


def version_get(*, version_id: int) -> AutomationVersion:
    """The version with what a deploy reads of it, in one query; 404 when unknown."""
    try:
        return AutomationVersion.objects.select_related(
            "project__client", "workflow_binding", "approved_by"
        ).get(pk=version_id)
    except AutomationVersion.DoesNotExist:
        raise _not_found(version_id) from None


def version_lock(*, version_id: int) -> AutomationVersion:
    """The version, row-locked until the end of the caller's transaction; 404 when unknown."""
    try:
        # of=("self",): the binding is an outer join, which PostgreSQL cannot lock.
        return (
            AutomationVersion.objects.select_for_update(of=("self",))
            .select_related("project__client", "workflow_binding")
            .get(pk=version_id)
        )
    except AutomationVersion.DoesNotExist:
        raise _not_found(version_id) from None


def versions_lock_with_live(
    *, version_id: int
) -> tuple[AutomationVersion, AutomationVersion | None]:
    """Row-lock a version and its project's Live version (if another) in one query; the
    version carries `was_live` (a deploy of it succeeded before: deploying it is a rollback).
    """
    same_project = AutomationVersion.objects.filter(pk=version_id).values("project_id")[:1]
    rows = list(
        AutomationVersion.objects.select_for_update(of=("self",))
        .select_related("project__client", "workflow_binding")
        .annotate(
            was_live=Exists(
                Deployment.objects.filter(
                    automation_version=OuterRef("pk"), status=DeploymentStatus.SUCCEEDED
                )
            )
        )
        .filter(Q(pk=version_id) | Q(project_id=same_project, status=VersionStatus.LIVE))
        .order_by("pk")
    )
    version = next((row for row in rows if row.pk == version_id), None)
    if version is None:
        raise _not_found(version_id)
    live = next((row for row in rows if row.pk != version_id), None)
    return version, live


def live_version(*, project_id: int) -> AutomationVersion | None:
    return (
        AutomationVersion.objects.select_related("workflow_binding")
        .filter(project_id=project_id, status=VersionStatus.LIVE)
        .first()
    )


def bindings_pending_deactivation() -> QuerySet[WorkflowBinding]:
    """Workflows still active on WRK as far as we know, though their version was archived:
    their deactivation failed and must be retried."""
    return WorkflowBinding.objects.select_related("automation_version__project").filter(
        PENDING_DEACTIVATION
    )


def bindings_of_errored_versions_unreported() -> QuerySet[WorkflowBinding]:
    """Workflows of versions in Error that WRK might run after all (activated by hand), not
    yet reported to ops."""
    return (
        WorkflowBinding.objects.select_related("automation_version__project")
        .filter(
            automation_version__status=VersionStatus.ERROR,
            active_in_error_reported_at__isnull=True,
        )
        .exclude(status=BindingStatus.ERROR)
        .order_by("pk")
    )


def ops_users() -> QuerySet[User]:
    return (
        get_user_model()
        .objects.filter(groups__name=OPS_GROUP, is_active=True)
        .order_by("pk")
        .distinct()
    )


def ops_email_recipients(user_emails: Iterable[str]) -> list[str]:
    """The ops team's addresses: active Ops users' emails plus OPS_EMAILS, once each."""
    return sorted({*(email for email in user_emails if email), *settings.OPS_EMAILS})


def ops_emails() -> list[str]:
    return ops_email_recipients(ops_users().values_list("email", flat=True))
