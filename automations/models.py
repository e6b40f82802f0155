"""Clients, projects, automation versions and their WRK workflow bindings (SPEC §2–§3).

Table names and stored status strings are a contract with other systems: never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition

from deployflow.dates import when

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True, slots=True)
class TransitionContext:
    """What the post_transition receivers need to audit and notify a transition."""

    actor: User | None
    # Where the action came from: admin, api, command or reconcile.
    origin: str
    deployment: Deployment | None = None
    # WRK requests the activation took; None when unknown (reconcile finished a deploy whose
    # process died), never a made-up 0.
    attempts: int | None = None
    error: str = ""
    # The Live version that this deploy replaces, locked by the deploy's transaction.
    previous: AutomationVersion | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Client(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    contact_email = models.EmailField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="client_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "clients"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ProjectStatus(models.TextChoices):
    DRAFT = "Draft"
    LIVE = "Live"


class Project(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="projects")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    # Plain choices, not a state machine: other flows add statuses of their own.
    status = models.CharField(max_length=32, choices=ProjectStatus, default=ProjectStatus.DRAFT)
    collaborators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="collaborations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "projects"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "Draft"
    READY = "Ready to Launch", "Ready to Launch"
    LIVE = "Live"
    ARCHIVED = "Archived"
    ERROR = "Error"


class BindingStatus(models.TextChoices):
    PENDING = "pending"
    ACTIVE = "active"
    INACTIVE = "inactive"
    ERROR = "error"


PERM_DEPLOY = "automations.deploy_automationversion"
PERM_APPROVE = "automations.approve_automationversion"
PERM_RESTAGE = "automations.restage_automationversion"
PERM_MARK_READY = "automations.mark_ready_automationversion"
PERM_ADD = "automations.add_automationversion"


# django-fsm types conditions as taking any model.
def _binding_exists(version: models.Model) -> bool:
    assert isinstance(version, AutomationVersion)
    return version.binding_or_none() is not None


def _binding_deployable(version: models.Model) -> bool:
    assert isinstance(version, AutomationVersion)
    binding = version.binding_or_none()
    return binding is not None and binding.deployable


class AutomationVersion(FSMModelMixin, models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=64, help_text="Label, unique within the project.")
    # protected: the status changes only through the transitions below.
    status = FSMField(
        max_length=32, choices=VersionStatus, default=VersionStatus.DRAFT, protected=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The four-eyes approval of SPEC §4.3. It approves this version's content, so it stays
    # through a retry or a rollback of the same version.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "automation_versions"
        ordering = ["project_id", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="version_label_unique"),
            # SPEC §2: at most one Live version per project, whatever path writes the row.
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="Live"),
                name="one_live_version_per_project",
            ),
            models.CheckConstraint(
                condition=Q(status__in=VersionStatus.values), name="version_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["project", "status"], name="version_project_status")]
        permissions = [
            ("deploy_automationversion", "Can deploy a version to production"),
            ("approve_automationversion", "Can approve a version for production"),
            ("restage_automationversion", "Can restage a version (retry or roll back)"),
            ("mark_ready_automationversion", "Can mark a version Ready to Launch"),
        ]

    def __str__(self) -> str:
        return f"{self.project} {self.version}"

    def binding_or_none(self) -> WorkflowBinding | None:
        try:
            return self.workflow_binding
        except WorkflowBinding.DoesNotExist:
            return None

    # Transitions change the status in memory; services save and run them in a transaction.
    # Receivers of django-fsm's post_transition do the archiving, audit and notifications.
    # `custom={"admin": False}`: the deploy-related transitions have side effects that only
    # their service performs, so generic admin transition buttons must never call them.

    @transition(
        field=status,
        source=VersionStatus.DRAFT,
        target=VersionStatus.READY,
        conditions=[_binding_exists],
        permission=PERM_MARK_READY,
        custom={"admin": False},
    )
    def mark_ready(self, *, ctx: TransitionContext) -> None:
        """Build finished: the version can be reviewed and deployed."""

    @transition(
        field=status,
        source=VersionStatus.READY,
        target=VersionStatus.LIVE,
        conditions=[_binding_deployable],
        permission=PERM_DEPLOY,
        custom={"admin": False},
    )
    def deploy(self, *, ctx: TransitionContext) -> None:
        """WRK confirmed the activation: the version goes Live."""

    @transition(
        field=status,
        source=VersionStatus.READY,
        target=VersionStatus.ERROR,
        permission=PERM_DEPLOY,
        custom={"admin": False},
    )
    def fail(self, *, ctx: TransitionContext) -> None:
        """Activation failed after its retries."""

    @transition(
        field=status,
        source=VersionStatus.LIVE,
        target=VersionStatus.ARCHIVED,
        custom={"admin": False},
    )
    def archive(self, *, ctx: TransitionContext) -> None:
        """A newer version of the project went Live."""

    @transition(
        field=status,
        source=[VersionStatus.ERROR, VersionStatus.ARCHIVED],
        target=VersionStatus.READY,
        permission=PERM_RESTAGE,
        custom={"admin": False},
    )
    def restage(self, *, ctx: TransitionContext) -> None:
        """Retry after an Error, or roll back by re-staging an Archived version."""


class WorkflowBinding(models.Model):
    automation_version = models.OneToOneField(
        AutomationVersion, on_delete=models.CASCADE, related_name="workflow_binding"
    )
    # One WRK workflow serves one version: sharing one would let archiving a version
    # deactivate the workflow of the version that replaced it.
    workflow_id = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=16, choices=BindingStatus, default=BindingStatus.PENDING)
    monitoring_started_at = models.DateTimeField(null=True, blank=True)
    # When reconcile told ops that WRK runs this workflow although its version is in Error;
    # cleared when the version is staged again, so each such episode is reported once.
    active_in_error_reported_at = models.DateTimeField(null=True, blank=True)
    # The open "old workflow still active" incident (SPEC §4.8): set by the first failed
    # deactivation only (a conditional update), cleared when WRK confirms the workflow
    # inactive or its version goes Live again. One alert when it opens, one notice when it
    # closes, however many retries fail in between.
    deactivation_failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "workflow_bindings"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BindingStatus.values), name="binding_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} ({self.status})"

    @property
    def deployable(self) -> bool:
        """SPEC §4.2: a binding in error cannot go live; pending, active, inactive can."""
        return self.status != BindingStatus.ERROR

    @property
    def deactivation_pending(self) -> bool:
        """Its version was archived but WRK never confirmed the deactivation (SPEC §4.8).
        `PENDING_DEACTIVATION` is the same rule as a query."""
        return (
            self.status == BindingStatus.ACTIVE
            and self.automation_version.status == VersionStatus.ARCHIVED
        )


PENDING_DEACTIVATION = Q(
    status=BindingStatus.ACTIVE, automation_version__status=VersionStatus.ARCHIVED
)


class DeploymentStatus(models.TextChoices):
    IN_PROGRESS = "in_progress"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeploymentSource(models.TextChoices):
    ADMIN = "admin"
    API = "api", "API"
    COMMAND = "command"
    RECONCILE = "reconcile"
    # Ops activated the workflow by hand in WRK (the source document allows it when the API
    # fails) and deployflow adopted that activation: no activate call was made.
    MANUAL = "manual"


class Deployment(models.Model):
    """One deploy attempt. Its in-progress row is the project's deploy lock.

    The partial unique constraint lets the database decide, in a short transaction, which
    of two concurrent deploys of a project runs; nothing stays locked during the WRK call.
    A row left in progress by a crashed process is finished by `manage.py reconcile`.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="deployments")
    automation_version = models.ForeignKey(
        AutomationVersion, on_delete=models.CASCADE, related_name="deployments"
    )
    workflow_id = models.CharField(max_length=200)
    # The Live version this deploy replaces, as it was when the deploy claimed the project.
    previous_version = models.ForeignKey(
        AutomationVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=16, choices=DeploymentSource)
    status = models.CharField(
        max_length=16, choices=DeploymentStatus, default=DeploymentStatus.IN_PROGRESS
    )
    is_rollback = models.BooleanField("rollback", default=False)
    # WRK activation requests; empty until known (and for ever when reconcile finished it).
    attempts = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "deployments"
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(status="in_progress"),
                name="one_deploy_in_progress_per_project",
            ),
        ]

    def __str__(self) -> str:
        return f"{when(self.started_at)} · {self.status}"
