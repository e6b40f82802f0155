"""A delivery's admin page shows the message as its recipient got it: the email's HTML in
a sandboxed frame and its text part, or the Slack message as text; rendered by the same
functions the worker sends with."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client as HttpClient

from automations.deploy import automation_version_deploy
from notifications.models import Delivery, Template
from notifications.rendering import render_email, render_slack
from tests.admin_rows import payload
from tests.conftest import run_worker
from tests.factories import make_project, make_user, make_version

FRAME_SRC = re.compile(r'<iframe [^>]*src="([^"]*)"')


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def page_of(delivery: Delivery, user) -> str:
    response = logged_in(user).get(f"/admin/notifications/delivery/{delivery.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def framed_html(page: str, user):
    """The email's HTML as the preview's frame loads it."""
    [src] = FRAME_SRC.findall(page)
    response = logged_in(user).get(html.unescape(src))
    assert response.status_code == 200
    return response


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip().splitlines()]


def text_part(page: str) -> str:
    found = re.search(
        r'<pre class="df-message-text" id="df-(?:mail|slack)-text">(.*?)</pre>', page, re.S
    )
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_page_shows_the_email_exactly_as_the_worker_sent_it(wrk, smtp, slack, strict_templates):
    ops = make_user(ops=True, email="ops@agency.example")
    project = make_project(contact_email="cto@client.example")
    version = make_version(project, "v1")
    automation_version_deploy(version_id=version.pk, actor=ops, source="admin")
    run_worker()
    received = smtp.to("cto@client.example")[0]
    delivery = Delivery.objects.get(template=Template.AUTOMATION_LIVE, channel="email")

    page = page_of(delivery, ops)

    framed = framed_html(page, ops).content.decode()
    assert lines(framed) == lines(received.part("text/html"))
    assert lines(text_part(page)) == lines(received.part("text/plain"))
    assert f'<td id="df-mail-subject">{html.escape(received.message["Subject"])}</td>' in page
    # Slack's message: the text a reader sees, from the same blocks the webhook got.
    slack_delivery = Delivery.objects.get(channel="slack")
    shown = text_part(page_of(slack_delivery, ops))
    [posted] = slack.requests
    assert shown.startswith(posted["text"])
    for field in posted["blocks"][1]["fields"]:
        label, _, value = field["text"].partition("\n")
        assert f"{label.strip('*')}: {value}" in shown


@pytest.mark.django_db
def test_the_html_runs_in_a_sandbox_without_scripts_whatever_the_payload_holds():
    ops = make_user(ops=True)
    project = make_project()
    version = make_version(project, "v1")
    hostile = {
        **payload(version),
        "project": '<script>alert("x")</script>',
        "version": '"><img src=x onerror=alert(1)>',
    }
    delivery = Delivery.objects.create(
        channel="email", template=Template.AUTOMATION_LIVE, recipient="a@b.example", payload=hostile
    )

    page = page_of(delivery, ops)

    frame = re.search(r"<iframe [^>]*>", page)
    assert frame is not None
    # `sandbox` with no allowance: no script, no form, no popup, no top navigation.
    assert 'sandbox=""' in frame.group(0)
    assert "allow-" not in frame.group(0)
    # Nothing of the payload runs on the page, in the headers or the text part.
    start = page.index('id="df-preview"')
    preview = page[start : page.index("</pre>", page.index('id="df-mail-text"'))]
    assert "<script" not in preview
    assert "<img" not in preview
    # The frame's own document: what the recipient saw, under a policy that runs nothing.
    framed = framed_html(page, ops)
    assert framed.content.decode() == render_email(Template.AUTOMATION_LIVE, hostile)[2]
    policy = framed["Content-Security-Policy"]
    assert "sandbox" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # falls back on default-src 'none'
    assert "frame-ancestors 'self'" in policy
    assert framed["X-Frame-Options"] == "SAMEORIGIN"
    # Only those who may view deliveries get it.
    [src] = FRAME_SRC.findall(page)
    assert logged_in(make_user(staff=True)).get(html.unescape(src)).status_code == 403


@pytest.mark.django_db
def test_a_slack_delivery_shows_its_message_as_text():
    ops = make_user(ops=True)
    version = make_version(make_project(), "v1")
    delivery = Delivery.objects.create(
        channel="slack",
        template=Template.DEPLOYMENT_SUCCESS,
        recipient="slack-webhook",
        payload=payload(version),
    )

    page = page_of(delivery, ops)

    headline, _ = render_slack(Template.DEPLOYMENT_SUCCESS, delivery.payload)
    shown = text_part(page)
    assert shown.splitlines()[0] == headline
    assert f"Project: {version.project.name}" in shown
    assert f"[Open in deployflow] {delivery.payload['admin_url']}" in shown
    assert "<iframe" not in page


@pytest.mark.django_db
def test_a_payload_that_no_longer_renders_is_explained_not_a_500():
    ops = make_user(ops=True)
    delivery = Delivery.objects.create(
        channel="email", template=Template.AUTOMATION_LIVE, recipient="a@b.example", payload={}
    )

    page = page_of(delivery, ops)

    assert "cannot be rendered with today's templates (KeyError: &#x27;at&#x27;)" in page
