"""Issue 9 §3, §4: the user's settings: time zone (IANA, UTC by default) and incident
emails; a profile row only once the user changes something."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from status.models import StatusProfile
from status.services import status_profile_update
from tests.factories import make_user

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def test_the_defaults_need_no_row(scenario):
    s = scenario()
    page = logged_in(s.member).get("/accounts/settings/").content.decode()
    assert '<option value="UTC" selected>UTC</option>' in page
    assert "Email me when an incident opens or resolves" in page
    assert not StatusProfile.objects.exists()


def test_a_member_chooses_a_time_zone_and_incident_emails(scenario):
    s = scenario()
    client = logged_in(s.member)
    response = client.post(
        "/accounts/settings/", {"time_zone": "America/Sao_Paulo", "incident_emails": "on"}
    )
    assert response.status_code == 302
    profile = StatusProfile.objects.get(user=s.member)
    assert (profile.time_zone, profile.incident_emails) == ("America/Sao_Paulo", True)
    page = client.get(response["Location"]).content.decode()
    assert "Your settings are saved." in page
    assert '<option value="America/Sao_Paulo" selected>America/Sao Paulo</option>' in page
    assert "Times in America/Sao_Paulo" in client.get(f"/status/{s.project.slug}/").content.decode()


def test_an_unknown_time_zone_is_refused(scenario):
    s = scenario()
    response = logged_in(s.member).post("/accounts/settings/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not StatusProfile.objects.exists()
    with pytest.raises(ValidationError):
        status_profile_update(user=s.member, time_zone="Europe/Atlantis", incident_emails=False)


def test_a_user_of_no_client_is_not_offered_incident_emails():
    page = logged_in(make_user()).get("/accounts/settings/").content.decode()
    assert "Email me when an incident" not in page
    assert "Time zone" in page
