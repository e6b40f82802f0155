"""Messages from a delivery's payload: email (subject, text, HTML) and Slack (Block Kit).

The payload holds the facts as they were when the event happened, so a retry hours later
renders the same message.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.template.loader import render_to_string

from deployflow.dates import when

from .models import Template

HEADLINES = {
    Template.AUTOMATION_LIVE: ":rocket: {project} {version} is Live",
    Template.DEPLOYMENT_SUCCESS: ":white_check_mark: Deployed {project} {version} to production",
    Template.DEPLOYMENT_FAILED: ":x: Deploy of {project} {version} failed",
    Template.DEACTIVATION_FAILED: ":warning: Workflow {workflow_id} is still active",
    Template.ACTIVE_IN_ERROR: ":warning: WRK runs {workflow_id} "
    "though {project} {version} is in Error",
    Template.DEACTIVATION_RESOLVED: ":white_check_mark: Resolved: workflow {workflow_id} "
    "is no longer left running",
    Template.APPROVAL_REQUESTED: ":eyes: Approval requested: {project} {version}",
    Template.RUNS_FAILING: ":rotating_light: {project} {version} is failing: "
    "{failure_count} runs in a row",
    Template.WORKFLOW_DRIFT: ":warning: {project} {version}: {detail}",
    Template.INCIDENT_RESOLVED: ":white_check_mark: {project} {version}: {resolved_what}",
}


def message_context(payload: dict[str, Any]) -> dict[str, Any]:
    context = dict(payload)
    context["at"] = datetime.fromisoformat(payload["at"])
    for moment in ("opened_at", "resolved_at"):
        if payload.get(moment):
            context[moment] = datetime.fromisoformat(payload[moment])
    for optional in ("attempts", "archived_version", "error", "resolution"):
        context.setdefault(optional, None)
    return context


def render_email(template: str, payload: dict[str, Any]) -> tuple[str, str, str]:
    context = message_context(payload)
    base = f"notifications/email/{template}"
    subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
    text = render_to_string(f"{base}/body.txt", context)
    html = render_to_string(f"{base}/body.html", context)
    return subject, text, html


def render_slack(template: str, payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    context = message_context(payload)
    headline = HEADLINES[Template(template)].format(**context)
    fields = [
        ("Client", context["client"]),
        ("Project", context["project"]),
        ("Version", context["version"]),
        ("Workflow", context["workflow_id"]),
        ("By", context["actor"]),
        ("When", when(context["at"])),
    ]
    if context["attempts"]:
        fields.append(("WRK attempts", str(context["attempts"])))
    if context["archived_version"]:
        fields.append(("Archived", context["archived_version"]))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline, "emoji": True}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
                for label, value in fields
                if value
            ],
        },
    ]
    if context["resolution"]:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": context["resolution"]}}
        )
    if context["error"]:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"```{context['error']}```"}}
        )
    link = context["status_url"] if template == Template.AUTOMATION_LIVE else context["admin_url"]
    blocks.append(
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Open in deployflow"},
                    "url": link,
                }
            ],
        }
    )
    return headline, blocks
