"""The invariants bench/load.py checks in the database once the load has stopped.

Each check compares the database with a witness outside it: WRK's call log and state (the
stand-in's), the mail and Slack servers' inboxes, and the answers the clients received.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count

from audit.models import AuditLog
from automations.models import AutomationVersion, Deployment, DeploymentStatus, WorkflowBinding
from automations.selectors import ops_emails
from devtools.fake_wrk import FakeWrk
from notifications.models import Channel, Delivery, DeliveryStatus, Template
from tests.servers import SlackServer, SmtpServer

from .load_clients import Tally


@dataclass(frozen=True)
class Check:
    name: str
    violations: list[str]
    detail: str = ""


def run_checks(*, wrk: FakeWrk, smtp: SmtpServer, slack: SlackServer, tally: Tally) -> list[Check]:
    return [
        one_live_per_project(),
        live_confirmed_by_wrk(wrk),
        bindings_agree_with_wrk(wrk),
        one_audit_row_per_transition(tally),
        deliveries_once_each(smtp, slack),
        no_unintended_5xx(tally),
    ]


def one_live_per_project() -> Check:
    rows = (
        AutomationVersion.objects.filter(status="Live")
        .values("project_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
    )
    return Check(
        "at most one Live version per project",
        [f"project {row['project_id']}: {row['n']} Live" for row in rows],
        f"{AutomationVersion.objects.filter(status='Live').count()} projects Live",
    )


def live_confirmed_by_wrk(wrk: FakeWrk) -> Check:
    """Every Live version's activation is in WRK's call log, and WRK runs it now."""
    confirmed = {
        call.workflow_id for call in wrk.calls_for("activate") if call.status in (200, 409)
    }
    violations = []
    live = WorkflowBinding.objects.filter(automation_version__status="Live")
    for workflow_id in live.values_list("workflow_id", flat=True):
        if workflow_id not in confirmed:
            violations.append(f"{workflow_id} is Live without a confirmed activation")
        elif not wrk.is_active(workflow_id):
            violations.append(f"{workflow_id} is Live but WRK does not run it")
    return Check("every Live version's activation confirmed by WRK", violations)


def bindings_agree_with_wrk(wrk: FakeWrk) -> Check:
    """The database never claims what WRK did not confirm: an `active` binding runs on WRK,
    an `inactive` one does not (an Archived version whose deactivation failed stays
    `active`, which is true)."""
    violations = []
    states: Counter[str] = Counter()
    for workflow_id, status in WorkflowBinding.objects.values_list("workflow_id", "status"):
        states[status] += 1
        running = wrk.is_active(workflow_id)
        if status == "active" and not running:
            violations.append(f"{workflow_id}: binding active, WRK says inactive")
        if status == "inactive" and running:
            violations.append(f"{workflow_id}: binding inactive, WRK runs it")
    return Check(
        "bindings agree with WRK",
        violations,
        ", ".join(f"{n} {status}" for status, n in sorted(states.items())),
    )


def one_audit_row_per_transition(tally: Tally) -> Check:
    """Each recorded deploy has exactly one `deploy` (or `deploy_failed`) row and one
    `archive` row for the version it replaced, and the counts match what the clients were
    told: every 200 to PATCH Live a deploy, every 502 a failed one, every 200 to PATCH Ready
    to Launch a restage (no version is a Draft during the load)."""
    violations = []
    per_deployment = Counter(
        (row["action_type"], row["metadata__deployment_id"])
        for row in AuditLog.objects.filter(
            action_type__in=("deploy", "deploy_failed", "archive")
        ).values("action_type", "metadata__deployment_id")
    )
    deployments = Deployment.objects.values_list("pk", "status", "previous_version_id")
    expected: Counter[tuple[str, int]] = Counter()
    for pk, status, previous in deployments:
        if status == DeploymentStatus.SUCCEEDED:
            expected[("deploy", pk)] += 1
            if previous is not None:
                expected[("archive", pk)] += 1
        elif status == DeploymentStatus.FAILED:
            expected[("deploy_failed", pk)] += 1
        else:
            violations.append(f"deployment {pk} left {status}")
    for key in expected.keys() | per_deployment.keys():
        if expected[key] != per_deployment[key]:
            violations.append(f"{key[0]} of deployment {key[1]}: {per_deployment[key]} rows")

    told: Counter[tuple[str, int]] = Counter()
    for (label, answer, _code), n in tally.answers.items():
        told[(label, answer)] += n
    audit = Counter(AuditLog.objects.values_list("action_type", flat=True))
    pairs = [
        ("deploy", told[("PATCH status Live", 200)]),
        ("deploy_failed", told[("PATCH status Live", 502)]),
        ("restage", told[("PATCH status Ready to Launch", 200)]),
    ]
    for action, answered in pairs:
        if audit[action] != answered:
            violations.append(f"{audit[action]} {action} rows, {answered} such answers")
    return Check(
        "one audit row per transition",
        violations,
        ", ".join(f"{audit[a]} {a}" for a in ("deploy", "deploy_failed", "archive", "restage")),
    )


def deliveries_once_each(smtp: SmtpServer, slack: SlackServer) -> Check:
    """Nothing lost: every delivery sent, one `automation_live` per deploy and one
    `deployment_success` per deploy and ops address; nothing twice: each email's Message-ID
    arrived once, and Slack got as many posts as Slack deliveries were sent."""
    violations = []
    unsent = Delivery.objects.exclude(status=DeliveryStatus.SENT)
    for pk, status, error in unsent.values_list("pk", "status", "last_error")[:20]:
        violations.append(f"delivery {pk} {status}: {error[:80]}")
    deploys = Deployment.objects.filter(status=DeploymentStatus.SUCCEEDED).count()
    emails = Delivery.objects.filter(channel=Channel.EMAIL)
    for template, wanted in (
        (Template.AUTOMATION_LIVE, deploys),
        (Template.DEPLOYMENT_SUCCESS, deploys * len(ops_emails())),
    ):
        if (n := emails.filter(template=template).count()) != wanted:
            violations.append(f"{n} {template} deliveries for {deploys} deploys (want {wanted})")
    with smtp.lock:
        received = Counter(str(m.message["Message-ID"]) for m in smtp.messages)
    violations += [f"Message-ID {mid} arrived {n} times" for mid, n in received.items() if n > 1]
    sent_emails = emails.filter(status=DeliveryStatus.SENT).count()
    if len(received) != sent_emails:
        violations.append(f"{len(received)} emails arrived, {sent_emails} recorded sent")
    with slack.lock:
        posts = len(slack.requests)
    slack_sent = Delivery.objects.filter(channel=Channel.SLACK, status=DeliveryStatus.SENT).count()
    if posts != slack_sent:
        violations.append(f"{posts} Slack posts, {slack_sent} recorded sent")
    return Check(
        "no delivery lost or sent twice",
        violations,
        f"{sent_emails} emails, {slack_sent} Slack posts",
    )


def no_unintended_5xx(tally: Tally) -> Check:
    """502 `activation_failed` is intended (WRK failed every attempt); any other 5xx, or no
    answer at all, is not."""
    violations = [
        f"{n} × {status} {code} on {label}"
        for (label, status, code), n in sorted(tally.answers.items())
        if (status >= 500 or status == 0) and (status, code) != (502, "activation_failed")
    ]
    intended = sum(
        n for (_, status, code), n in tally.answers.items() if code == "activation_failed"
    )
    return Check("no 5xx except intended 502s", violations, f"{intended} intended 502s")
