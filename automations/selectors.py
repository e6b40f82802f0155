"""Reads of the automations app."""

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import (
    Count,
    Exists,
    Expression,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from .errors import ErrorCode, ServiceError
from .models import (
    PENDING_DEACTIVATION,
    PERM_APPROVE,
    AutomationVersion,
    BindingStatus,
    Deployment,
    DeploymentStatus,
    Project,
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


def project_lock(*, version_id: int) -> None:
    """Row-lock the version's project until the end of the caller's transaction.

    The deploy's claim and both of its records take it first, so that they queue in one
    order: a claim made while another deploy of the project is being recorded waits for that
    record to commit, then reads the Live version it made (row locks on the versions alone
    let the claim see the old Live version archived and the new one not yet Live).
    """
    of_version = AutomationVersion.objects.filter(pk=version_id).values("project_id")[:1]
    # An unknown version locks nothing; the caller's next lookup says it does not exist.
    Project.objects.select_for_update().filter(pk=of_version).values_list("pk").first()


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


def approvers() -> QuerySet[User]:
    """Active users who may approve a deploy: through a group (Ops), directly, or as
    superusers, the same sources as `has_perm`."""
    app_label, codename = PERM_APPROVE.split(".")
    direct = Q(
        user_permissions__codename=codename,
        user_permissions__content_type__app_label=app_label,
    )
    via_group = Q(
        groups__permissions__codename=codename,
        groups__permissions__content_type__app_label=app_label,
    )
    return (
        get_user_model()
        .objects.filter(direct | via_group | Q(is_superuser=True), is_active=True)
        .order_by("pk")
        .distinct()
    )


def ops_email_recipients(user_emails: Iterable[str]) -> list[str]:
    """The ops team's addresses: active Ops users' emails plus OPS_EMAILS, once each."""
    return sorted({*(email for email in user_emails if email), *settings.OPS_EMAILS})


def ops_emails() -> list[str]:
    return ops_email_recipients(ops_users().values_list("email", flat=True))


def _per_project_count(rows: QuerySet[AutomationVersion] | QuerySet[Deployment]) -> Coalesce:
    """The number of the project's `rows`, as a correlated subquery."""
    counted = (
        rows.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _versions_count(**filters: object) -> Coalesce:
    """The number of the project's versions matching `filters`, as a correlated subquery."""
    return _per_project_count(AutomationVersion.objects.filter(**filters))


def projects_with_overview(projects: QuerySet[Project]) -> QuerySet[Project]:
    """Each project with what is Live and what waits, in the same query whatever the number
    of rows: `live_id` and `live_label`, `ready_count` (deployable now, approval permitting),
    `awaiting_approval_count` (Ready, but DEPLOY_REQUIRE_APPROVAL and nobody approved yet),
    `error_count`, and `deactivation_pending_count` (archived versions whose workflow WRK
    never confirmed stopped: the open incidents)."""
    live = AutomationVersion.objects.filter(project=OuterRef("pk"), status=VersionStatus.LIVE)
    ready = {"status": VersionStatus.READY}
    awaiting: Expression
    if settings.DEPLOY_REQUIRE_APPROVAL:
        awaiting = _versions_count(**ready, approved_by__isnull=True)
        ready_count = _versions_count(**ready, approved_by__isnull=False)
    else:
        awaiting = Value(0, output_field=IntegerField())
        ready_count = _versions_count(**ready)
    return projects.annotate(
        live_id=Subquery(live.values("pk")[:1]),
        live_label=Subquery(live.values("version")[:1]),
        ready_count=ready_count,
        awaiting_approval_count=awaiting,
        error_count=_versions_count(status=VersionStatus.ERROR),
        deactivation_pending_count=_versions_count(
            status=VersionStatus.ARCHIVED,
            workflow_binding__deactivation_failed_at__isnull=False,
        ),
    )


def newest_of_project[M: (AutomationVersion, Deployment)](
    rows: QuerySet[M], *, project_id: int, limit: int
) -> QuerySet[M]:
    """The project's newest `limit` of `rows` (in their own order, newest first), still a
    queryset that can be filtered further, as the admin's inline formsets do."""
    newest = rows.filter(project_id=project_id).values("pk")[:limit]
    return rows.filter(pk__in=newest)


def project_row_counts(*, project_id: int) -> tuple[int, int]:
    """How many versions and deploys the project has, in one query."""
    counts = Project.objects.filter(pk=project_id).annotate(
        version_count=_versions_count(), deploy_count=_per_project_count(Deployment.objects.all())
    )
    row = counts.values_list("version_count", "deploy_count").first()
    return row if row is not None else (0, 0)


def workflow_in_use(*, workflow_id: str) -> bool:
    """One WRK workflow serves one version: is this one taken?"""
    return WorkflowBinding.objects.filter(workflow_id=workflow_id).exists()


def versions_filtered(*, project_id: int | None, status: str | None) -> QuerySet[AutomationVersion]:
    versions = AutomationVersion.objects.all()
    if project_id is not None:
        versions = versions.filter(project_id=project_id)
    if status is not None:
        versions = versions.filter(status=status)
    return versions


def deployments_filtered(*, project_id: int | None) -> QuerySet[Deployment]:
    deployments = Deployment.objects.all()
    if project_id is not None:
        deployments = deployments.filter(project_id=project_id)
    return deployments
