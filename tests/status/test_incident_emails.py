"""Issue 9 §3: client members who opted in get an email when an incident opens and when it
resolves on their projects, in their time zone, without workflow ids or ops usernames."""

from __future__ import annotations

from datetime import timedelta

import pytest

from automations.deploy import automation_version_deploy
from notifications.models import Delivery, Notification, Template
from notifications.rendering import render_email
from notifications.services import notifications_email_clients
from status.models import StatusProfile
from tests.factories import make_project, make_user, make_version

from .conftest import ERROR, NOW, healthy_day, ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident_emails(scenario, ops_user, time_machine):
    """A project whose runs fail three times in a row and then recover; one member opted in
    (in India's time zone), one did not; a member of another client opted in too."""
    s = scenario()
    s.member.email = "cto@client.example"
    s.member.save()
    StatusProfile.objects.create(user=s.member, time_zone="Asia/Kolkata", incident_emails=True)
    quiet = make_user(email="quiet@client.example")
    s.project.client.members.add(quiet)
    elsewhere = scenario()
    StatusProfile.objects.create(user=elsewhere.member, incident_emails=True)
    s.project.collaborators.add(s.member)
    healthy_day(s.workflow_id, until=NOW - timedelta(minutes=10))
    time_machine.move_to(NOW, tick=False)
    error = f"{ERROR} (workflow {s.workflow_id})"
    ingest(s.workflow_id, ["error"] * 3, first=NOW - timedelta(minutes=9), error=error, prefix="b")
    time_machine.move_to(NOW + timedelta(minutes=45), tick=False)
    ingest(s.workflow_id, ["success"], first=NOW + timedelta(minutes=40), prefix="again")
    return s, ops_user


def client_emails() -> list[Delivery]:
    return list(Delivery.objects.filter(template=Template.CLIENT_INCIDENT).order_by("id"))


def test_only_opted_in_members_of_the_projects_client_get_them(incident_emails):
    sent = client_emails()
    assert [(d.channel, d.recipient) for d in sent] == [
        ("email", "cto@client.example"),
        ("email", "cto@client.example"),
    ]
    assert [d.payload["resolved"] for d in sent] == [False, True]


def test_the_opening_email_in_the_clients_words_and_time_zone(incident_emails, strict_templates):
    s, ops_user = incident_emails
    subject, text, html = render_email(Template.CLIENT_INCIDENT, client_emails()[0].payload)
    assert subject == f"{s.project.name}: runs failing"
    for body in (text, html):
        assert f"{s.project.name}" in body
        assert "3 runs failed in a row." in body
        assert "Our team has been alerted" in body
        assert "2026-11-27 20:00 IST" in body  # 14:30 UTC, in the member's zone
        assert (
            "Node &#x27;Google Sheets&#x27; failed" in body or "Node 'Google Sheets' failed" in body
        )
        assert "(workflow the workflow)" in body
        assert f"/status/{s.project.slug}/" in body
        assert s.workflow_id not in body
        assert "wf-" not in body
        assert ops_user.username not in body
        assert "/admin/" not in body


def test_the_resolution_email(incident_emails, strict_templates):
    s, ops_user = incident_emails
    subject, text, html = render_email(Template.CLIENT_INCIDENT, client_emails()[1].payload)
    assert subject == f"{s.project.name}: resolved, runs succeed again"
    for body in (text, html):
        assert f"{s.project.name} is back to normal" in body
        assert "45 min" in body
        assert "2026-11-27 20:45 IST" in body
        assert s.workflow_id not in body
        assert ops_user.username not in body


def test_collaborators_in_app_alerts_name_no_workflow_either(incident_emails):
    s, _ = incident_emails
    alerts = Notification.objects.filter(recipient=s.member)
    assert [a.kind for a in alerts.order_by("id")] == ["runs_failing", "incident_resolved"]
    for alert in alerts:
        assert s.workflow_id not in alert.title
        assert s.workflow_id not in alert.body
    assert "(workflow the workflow)" in alerts.get(kind="runs_failing").body


def test_client_emails_refuse_ops_only_facts():
    with pytest.raises(ValueError, match="workflow_id"):
        notifications_email_clients(
            template=Template.CLIENT_INCIDENT,
            facts={"project": "P", "workflow_id": "wf-1"},
            recipients=[("a@client.example", "UTC")],
        )


def test_the_clients_live_email_names_neither_workflow_nor_deployer(
    scenario, ops_user, strict_templates
):
    """The client's `automation_live` email (ops' `deployment_success` keeps both)."""
    s = scenario()
    delivery = Delivery.objects.get(template=Template.AUTOMATION_LIVE)
    assert delivery.recipient == s.project.client.contact_email
    assert not {"workflow_id", "actor", "admin_url"} & delivery.payload.keys()
    subject, text, html = render_email(delivery.template, delivery.payload)
    assert subject == f"{s.project.name} v1 is live"
    for body in (text, html):
        assert "is now" in body
        assert f"/status/{s.project.slug}/" in body
        assert s.workflow_id not in body
        assert ops_user.username not in body
        assert "/admin/" not in body
    ops_email = Delivery.objects.get(template=Template.DEPLOYMENT_SUCCESS, channel="email")
    assert ops_email.payload["workflow_id"] == s.workflow_id
    assert ops_email.payload["actor"] == ops_user.username


def test_collaborators_in_app_live_notice_names_no_deployer(wrk, ops_user):
    member = make_user()
    project = make_project()
    project.collaborators.add(member)
    version = make_version(project, "v1")
    automation_version_deploy(version_id=version.pk, actor=ops_user, source="admin")
    notice = Notification.objects.get(recipient=member, kind="automation_live")
    assert notice.body == "Now running in production."
    assert ops_user.username not in notice.title + notice.body
