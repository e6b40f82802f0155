"""Queue the notifications of SPEC §4.9: in-app rows and outbox deliveries.

Everything here runs inside the transaction of the change it reports and writes with bulk
inserts, so the number of queries does not grow with the number of collaborators.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Value
from django.urls import reverse
from django.utils import timezone

from automations.selectors import approvers, ops_email_recipients, ops_users

from .delivery import deliveries_enqueue
from .models import Channel, Delivery, Notification, Template

if TYPE_CHECKING:
    from automations.models import AutomationVersion, TransitionContext, WorkflowBinding

SLACK_RECIPIENT = "slack-webhook"


def _admin_url(version: AutomationVersion) -> str:
    return settings.SITE_URL + reverse(
        "admin:automations_automationversion_change", args=[version.pk]
    )


def _status_url(version: AutomationVersion) -> str:
    return f"{settings.SITE_URL}/status/{version.project.slug}/"


def _facts(version: AutomationVersion, actor: User | None) -> dict[str, Any]:
    """What every message says, captured now so that a later send renders the same facts."""
    project = version.project
    binding = version.binding_or_none()
    return {
        "client": project.client.name,
        "project": project.name,
        "project_slug": project.slug,
        "version": version.version,
        "version_id": version.pk,
        "workflow_id": binding.workflow_id if binding is not None else None,
        "actor": actor.get_username() if actor is not None else "system",
        "at": timezone.now().isoformat(),
        "admin_url": _admin_url(version),
        "status_url": _status_url(version),
    }


def _ops_deliveries(
    template: Template, payload: dict[str, Any], ops_emails: list[str]
) -> list[Delivery]:
    deliveries = [
        Delivery(channel=Channel.EMAIL, template=template, recipient=email, payload=payload)
        for email in ops_email_recipients(ops_emails)
    ]
    if settings.SLACK_WEBHOOK_URL:
        deliveries.append(
            Delivery(
                channel=Channel.SLACK,
                template=template,
                recipient=SLACK_RECIPIENT,
                payload=payload,
            )
        )
    return deliveries


def _ops() -> tuple[list[int], list[str]]:
    rows = list(ops_users().values_list("pk", "email"))
    return [pk for pk, _ in rows], [email for _, email in rows if email]


@dataclass(frozen=True, slots=True)
class ProjectAudience:
    collaborator_ids: list[int]
    ops_ids: list[int]
    ops_emails: list[str]


def project_audience(project_id: int) -> ProjectAudience:
    """The project's collaborators and the ops team (ids and addresses), in one query."""
    collaborators = (
        get_user_model()
        .objects.filter(collaborations=project_id)
        .annotate(is_ops=Value(value=False))
        .values_list("pk", "email", "is_ops")
    )
    rows = collaborators.union(
        ops_users()
        .order_by()
        .annotate(is_ops=Value(value=True))
        .values_list("pk", "email", "is_ops"),
        all=True,
    )
    audience = ProjectAudience(collaborator_ids=[], ops_ids=[], ops_emails=[])
    for pk, email, is_ops in rows:
        if not is_ops:
            audience.collaborator_ids.append(pk)
            continue
        audience.ops_ids.append(pk)
        if email:
            audience.ops_emails.append(email)
    return audience


# What ops messages name and a client's must not (SPEC §5: clients never see workflow ids
# or ops usernames), nor the admin's links, which clients cannot open.
OPS_ONLY_FACTS = frozenset({"workflow_id", "actor", "admin_url", "attempts", "version_id"})


def _client_facts(facts: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in facts.items() if key not in OPS_ONLY_FACTS}


def notifications_deploy_succeeded(*, version: AutomationVersion, ctx: TransitionContext) -> None:
    facts = _facts(version, ctx.actor)
    facts["attempts"] = ctx.attempts
    facts["archived_version"] = ctx.previous.version if ctx.previous is not None else None
    audience = project_audience(version.project_id)
    collaborator_ids, ops_emails = audience.collaborator_ids, audience.ops_emails
    # Collaborators may be client users: the in-app row says what happened, not who did it.
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=Template.AUTOMATION_LIVE,
            title=f"{facts['project']} {facts['version']} is Live",
            body="Now running in production.",
            link=facts["status_url"],
        )
        for user_id in collaborator_ids
    )
    deliveries = _ops_deliveries(Template.DEPLOYMENT_SUCCESS, facts, ops_emails)
    contact = version.project.client.contact_email
    if contact:
        deliveries.insert(
            0,
            Delivery(
                channel=Channel.EMAIL,
                template=Template.AUTOMATION_LIVE,
                recipient=contact,
                payload=_client_facts(facts),
            ),
        )
    _queue(deliveries)


def notifications_email_clients(
    *, template: Template, facts: dict[str, Any], recipients: Sequence[tuple[str, str]]
) -> None:
    """Email client users (address, IANA time zone), each message in the recipient's time
    zone, in the caller's transaction. The facts must be a client's to read: a payload that
    names a workflow, an ops user or an admin link is refused."""
    leaked = OPS_ONLY_FACTS & facts.keys()
    if leaked:
        raise ValueError(f"Client emails never carry {sorted(leaked)}.")
    _queue(
        [
            Delivery(
                channel=Channel.EMAIL,
                template=template,
                recipient=email,
                payload={**facts, "time_zone": zone},
            )
            for email, zone in recipients
        ]
    )


def _queue(deliveries: list[Delivery]) -> None:
    """Write the outbox rows and the task that sends them, in the caller's transaction."""
    Delivery.objects.bulk_create(deliveries)
    deliveries_enqueue(delivery_ids=[d.pk for d in deliveries])


def _notify_ops(template: Template, title: str, facts: dict[str, Any], body: str = "") -> None:
    ops_ids, ops_emails = _ops()
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=template,
            title=title,
            body=body or facts.get("error", ""),
            link=facts["admin_url"],
        )
        for user_id in ops_ids
    )
    _queue(_ops_deliveries(template, facts, ops_emails))


def notifications_deploy_failed(*, version: AutomationVersion, ctx: TransitionContext) -> None:
    facts = {**_facts(version, ctx.actor), "attempts": ctx.attempts, "error": ctx.error}
    _notify_ops(
        Template.DEPLOYMENT_FAILED,
        f"Deploy of {facts['project']} {facts['version']} failed",
        facts,
    )


def notifications_deactivation_failed(
    *, binding: WorkflowBinding, actor: User | None, error: str
) -> None:
    """The incident opened: the first failure only (retries that fail again stay quiet)."""
    facts = {**_facts(binding.automation_version, actor), "error": error}
    _notify_ops(
        Template.DEACTIVATION_FAILED,
        f"Workflow {binding.workflow_id} could not be deactivated",
        facts,
    )


RESOLUTIONS = {
    "deactivated": "WRK confirmed that workflow {workflow_id} is inactive.",
    "live_again": "{version} went Live again, so its workflow {workflow_id} is meant to run.",
}


def notifications_deactivation_resolved(
    *, binding: WorkflowBinding, actor: User | None, how: str
) -> None:
    """The one "resolved" notice of a deactivation incident."""
    facts = _facts(binding.automation_version, actor)
    facts["resolution"] = RESOLUTIONS[how].format(**facts)
    _notify_ops(
        Template.DEACTIVATION_RESOLVED,
        f"Resolved: workflow {binding.workflow_id} is no longer left running",
        facts,
        body=facts["resolution"],
    )


def notifications_approval_requested(*, version: AutomationVersion, ctx: TransitionContext) -> None:
    """The version became Ready to Launch and needs an approval (DEPLOY_REQUIRE_APPROVAL):
    ask everyone who may give it, in-app and by email, and the Slack channel."""
    if not settings.DEPLOY_REQUIRE_APPROVAL or version.approved_by_id is not None:
        return
    asked = approvers()
    if settings.DEPLOY_PREVENT_SELF_APPROVAL and version.created_by_id is not None:
        # Its author may not approve it: asking them would be noise.
        asked = asked.exclude(pk=version.created_by_id)
    rows = list(asked.values_list("pk", "email"))
    facts = _facts(version, ctx.actor)
    title = f"Approval requested: {facts['project']} {facts['version']}"
    Notification.objects.bulk_create(
        Notification(
            recipient_id=user_id,
            kind=Template.APPROVAL_REQUESTED,
            title=title,
            body=f"{facts['actor']} made it Ready to Launch; it needs your approval to deploy.",
            link=facts["admin_url"],
        )
        for user_id, _ in rows
    )
    deliveries = [
        Delivery(
            channel=Channel.EMAIL,
            template=Template.APPROVAL_REQUESTED,
            recipient=email,
            payload=facts,
        )
        for email in sorted({email for _, email in rows if email})
    ]
    if settings.SLACK_WEBHOOK_URL:
        deliveries.append(
            Delivery(
                channel=Channel.SLACK,
                template=Template.APPROVAL_REQUESTED,
                recipient=SLACK_RECIPIENT,
                payload=facts,
            )
        )
    _queue(deliveries)


def notifications_active_in_error(*, binding: WorkflowBinding) -> None:
    facts = _facts(binding.automation_version, None)
    _notify_ops(
        Template.ACTIVE_IN_ERROR,
        f"WRK runs {binding.workflow_id}, but {facts['project']} {facts['version']} is in Error",
        facts,
    )


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; another user's is not found (404)."""
    notification = Notification.objects.get(pk=notification_id, recipient=user)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
