"""Issue 11.5: failed admin logins and failed API tokens lock the address out (django-axes):
the API answers 429 `too_many_attempts` with Retry-After, the admin a page that says why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import make_user

pytestmark = pytest.mark.django_db
ATTACKER = "203.0.113.7"


@pytest.fixture(autouse=True)
def limit(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def get(secret: str, address: str = ATTACKER):
    return Client(REMOTE_ADDR=address).get(
        "/v1/projects", headers={"Authorization": f"Bearer {secret}"}
    )


def test_bad_tokens_lock_the_address_out_with_429_and_retry_after(api_token, time_machine):
    answers = [get("guess") for _ in range(3)]
    # The failure that reaches the limit is answered with the lockout already.
    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert answers[2].json()["error"]["code"] == "too_many_attempts"

    locked = get(api_token)  # even the right token, from this address
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    assert "try again in 15 minute(s)" in locked.json()["error"]["message"]
    assert 890 <= int(locked["Retry-After"]) <= 900

    # Another address is not concerned.
    assert get(api_token, address="198.51.100.1").status_code == 200
    # The cool-off over, the right token works again.
    time_machine.move_to(timezone.now() + timedelta(minutes=16))
    assert get(api_token).status_code == 200


def test_admin_logins_are_locked_out_with_a_clear_page(ops_user):
    browser = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        response = browser.post(
            "/admin/login/", {"username": ops_user.username, "password": "wrong"}
        )
        assert response.status_code in (200, 429)
    locked = browser.post("/admin/login/", {"username": ops_user.username, "password": "pw"})
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "Try again in 15 minutes" in page
    # From elsewhere, the right password still works.
    other = Client(REMOTE_ADDR="198.51.100.1")
    response = other.post("/admin/login/", {"username": ops_user.username, "password": "pw"})
    assert response.status_code == 302


def test_client_logins_count_too(db):
    user = make_user()
    browser = Client(REMOTE_ADDR=ATTACKER)
    for _ in range(3):
        browser.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    assert (
        browser.post("/accounts/login/", {"username": user.username, "password": "pw"}).status_code
        == 429
    )
