"""In-app notifications: the bell, the list, mark as read; nobody sees another's."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from automations.deploy import automation_version_deploy
from notifications.models import Notification
from tests.factories import make_delivery, make_project, make_user, make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_user_with_news(wrk):
    """A client user collaborating on a project that was just deployed."""
    user = make_user()
    project = make_project()
    project.collaborators.add(user)
    automation_version_deploy(version_id=make_version(project).pk, actor=None, source="api")
    return user, project


def logged_in(user) -> HttpClient:
    client = HttpClient()
    client.force_login(user)
    return client


def test_the_list_shows_only_my_notifications_with_links(client_user_with_news):
    user, project = client_user_with_news
    stranger = make_user()
    Notification.objects.create(recipient=stranger, kind="x", title="Not for you")

    response = logged_in(user).get("/notifications/")

    assert response.status_code == 200
    page = response.content.decode()
    assert f"{project.name}" in page
    # The link opens the notification (marking it read), then goes to its page.
    notification = user.notifications.get()
    assert f'href="/notifications/{notification.pk}/open/"' in page
    assert "Not for you" not in page
    assert 'class="count">1<' in page


def test_mark_as_read_and_mark_all(client_user_with_news):
    user, _ = client_user_with_news
    extra = Notification.objects.create(recipient=user, kind="x", title="Second")
    client = logged_in(user)
    first = user.notifications.exclude(pk=extra.pk).get()

    response = client.post(f"/notifications/{first.pk}/read", {"next": "/notifications/"})
    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    first.refresh_from_db()
    assert first.read_at is not None
    assert Notification.objects.get(pk=extra.pk).read_at is None

    client.post("/notifications/read-all")
    assert not user.notifications.filter(read_at__isnull=True).exists()


def test_another_users_notification_is_not_found_and_stays_unread(client_user_with_news):
    user, _ = client_user_with_news
    theirs = user.notifications.get()
    intruder = logged_in(make_user())
    assert intruder.post(f"/notifications/{theirs.pk}/read").status_code == 404
    intruder.post("/notifications/read-all")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_refuses_get_and_an_outside_redirect(client_user_with_news):
    user, _ = client_user_with_news
    client = logged_in(user)
    notification = user.notifications.get()
    assert client.get(f"/notifications/{notification.pk}/read").status_code == 405
    response = client.post(
        f"/notifications/{notification.pk}/read", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/notifications/"


def test_anonymous_users_are_sent_to_log_in():
    response = HttpClient().get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_admin_header_has_the_bell(wrk):
    ops = make_user(ops=True)
    Notification.objects.create(recipient=ops, kind="x", title="Hello")
    Notification.objects.create(recipient=ops, kind="x", title="Again")
    page = logged_in(ops).get("/admin/").content.decode()
    assert 'href="/notifications/?next=/admin/"' in page
    assert "<strong>2</strong>" in page


def test_client_users_cannot_use_the_admin():
    client = logged_in(make_user())
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_ops_can_resend_failed_deliveries_from_the_admin(wrk):
    ops = make_user(ops=True)
    failed = make_delivery("a@b.example", status="failed", attempts=6, last_error="boom")
    sent = make_delivery("c@d.example", status="sent", attempts=1)
    client = logged_in(ops)
    listing = client.get("/admin/notifications/delivery/?status__exact=failed")
    assert listing.status_code == 200
    assert "boom" in listing.content.decode()

    client.post(
        "/admin/notifications/delivery/",
        {"action": "resend", "_selected_action": [failed.pk, sent.pk]},
    )

    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.status, failed.attempts) == ("pending", 0)
    assert sent.status == "sent"


def test_staff_without_the_resend_permission_cannot_resend(wrk):
    failed = make_delivery("a@b.example", status="failed")
    staff = make_user(staff=True)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    logged_in(staff).post(
        "/admin/notifications/delivery/",
        {"action": "resend", "_selected_action": [failed.pk]},
    )
    failed.refresh_from_db()
    assert failed.status == "failed"


def test_opening_a_notification_marks_it_read_and_follows_its_link(client_user_with_news, settings):
    user, project = client_user_with_news
    notification = user.notifications.get()
    response = logged_in(user).get(f"/notifications/{notification.pk}/open/")
    assert response.status_code == 302
    # The link is absolute (SITE_URL, as in emails); opened in the app it stays on this host.
    assert notification.link == f"{settings.SITE_URL}/status/{project.slug}/"
    assert response["Location"] == f"/status/{project.slug}/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_another_users_notification_is_not_found(client_user_with_news):
    user, _ = client_user_with_news
    theirs = user.notifications.get()
    assert logged_in(make_user()).get(f"/notifications/{theirs.pk}/open/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_link_elsewhere_is_not_followed(db):
    user = make_user()
    odd = Notification.objects.create(
        recipient=user, kind="x", title="Odd", link="https://evil.example/"
    )
    response = logged_in(user).get(f"/notifications/{odd.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_staff_read_their_notifications_inside_the_admin_with_a_way_back(db):
    ops = make_user(ops=True)
    Notification.objects.create(recipient=ops, kind="x", title="Deploy of P v2 failed", link="/x")
    came_from = "/admin/automations/automationversion/"
    response = logged_in(ops).get("/notifications/", {"next": came_from})
    page = response.content.decode()
    assert "admin/base_site.html" in [t.name for t in response.templates]
    assert 'id="site-name"' in page  # the admin's header
    assert f'<a href="{came_from}" id="df-back">' in page
    assert "Deploy of P v2 failed" in page
    # Somewhere else is not a way back.
    elsewhere = logged_in(ops).get("/notifications/", {"next": "https://evil.example/"})
    assert b'<a href="/admin/" id="df-back">' in elsewhere.content
    # Client users keep the client look.
    client_page = logged_in(make_user()).get("/notifications/")
    assert "admin/base_site.html" not in [t.name for t in client_page.templates]
