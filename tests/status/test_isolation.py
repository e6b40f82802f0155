"""Issue 9 §6: another client's project and an unknown slug give the same 404, on every
route and feed; anonymous users log in first (the feed needs no session, only its token);
ops see every project."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from status.pages import feed_address_token
from status.selectors import status_profile
from tests.factories import make_project, make_user

from .conftest import logged_in

pytestmark = pytest.mark.django_db


def feed_url(user, project) -> str:
    token = feed_address_token(user=user, profile=status_profile(user=user), project=project)
    return f"/status/{project.slug}/feed/{token}.atom"


@pytest.fixture
def two_clients(scenario):
    """Our client (a member, a project) and another client with its own member and project."""
    ours = scenario()
    theirs = scenario()
    return ours, theirs


def test_another_clients_project_and_an_unknown_slug_answer_the_same_404(two_clients):
    ours, theirs = two_clients
    client = logged_in(ours.member)
    foreign = client.get(f"/status/{theirs.project.slug}/")
    unknown = client.get("/status/no-such-project/")
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.content == unknown.content
    assert theirs.project.name not in foreign.content.decode()


def test_the_index_lists_only_the_users_clients_projects(two_clients):
    ours, theirs = two_clients
    page = logged_in(ours.member).get("/status/").content.decode()
    assert f'href="/status/{ours.project.slug}/"' in page
    assert theirs.project.slug not in page
    assert theirs.project.name not in page


def test_a_feed_answers_only_its_own_token_for_its_own_project(two_clients, ops_user):
    ours, theirs = two_clients
    anonymous = HttpClient()
    mine = feed_url(ours.member, ours.project)
    assert anonymous.get(mine).status_code == 200  # no session needed
    not_found = [
        # Another client's project, with a token made for it by a user who cannot see it.
        feed_url(ours.member, theirs.project),
        # Our token carried over to another client's project, or to an unknown one.
        mine.replace(ours.project.slug, theirs.project.slug),
        mine.replace(ours.project.slug, "no-such-project"),
        # A wrong token, a truncated one, one of a user who does not exist, and junk.
        mine[:-8] + "00000000.atom",
        mine[:-6] + ".atom",
        f"/status/{ours.project.slug}/feed/999999-{'0' * 32}.atom",
        f"/status/{ours.project.slug}/feed/{'9' * 30}-{'0' * 32}.atom",
        f"/status/{ours.project.slug}/feed/not-a-token.atom",
    ]
    answers = [anonymous.get(url) for url in not_found]
    assert [a.status_code for a in answers] == [404] * len(not_found)
    # A session does not help either: the token is the only credential.
    assert logged_in(ours.member).get(not_found[0]).status_code == 404


def test_a_token_opens_one_project_only(scenario, ops_user):
    """Two projects of the same client, both visible to the member: a feed address of one
    does not open the other's feed (a leaked address shows nothing else)."""
    ours = scenario()
    second = make_project()
    second.client = ours.project.client
    second.save()
    token_url = feed_url(ours.member, ours.project)
    client = HttpClient()
    assert client.get(feed_url(ours.member, second)).status_code == 200
    assert client.get(token_url.replace(ours.project.slug, second.slug)).status_code == 404


def test_a_deactivated_user_or_a_former_member_loses_the_feed(scenario):
    ours = scenario()
    url = feed_url(ours.member, ours.project)
    ours.project.client.members.remove(ours.member)
    assert HttpClient().get(url).status_code == 404
    ours.project.client.members.add(ours.member)
    assert HttpClient().get(url).status_code == 200
    ours.member.is_active = False
    ours.member.save()
    assert HttpClient().get(url).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/status/",
        "/status/{slug}/",
        "/status/no-such-project/",
        "/accounts/settings/",
    ],
)
def test_anonymous_users_are_sent_to_log_in(scenario, path):
    project = scenario().project
    response = HttpClient().get(path.format(slug=project.slug))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_anonymous_users_cannot_reset_a_feed_token():
    response = HttpClient().post("/accounts/settings/feed-token/reset/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_ops_see_every_project_and_its_feed(two_clients, ops_user):
    ours, theirs = two_clients
    client = logged_in(ops_user)
    index = client.get("/status/").content.decode()
    for scenario_ in (ours, theirs):
        assert f'href="/status/{scenario_.project.slug}/"' in index
        assert client.get(f"/status/{scenario_.project.slug}/").status_code == 200
        assert HttpClient().get(feed_url(ops_user, scenario_.project)).status_code == 200
    assert client.get("/status/no-such-project/").status_code == 404


def test_a_user_of_no_client_sees_nothing(two_clients):
    ours, _ = two_clients
    nobody = make_user()
    client = logged_in(nobody)
    assert client.get(f"/status/{ours.project.slug}/").status_code == 404
    assert "No automation is shared with you yet." in client.get("/status/").content.decode()
    assert HttpClient().get(feed_url(nobody, ours.project)).status_code == 404


def test_client_users_land_on_their_status_pages():
    response = logged_in(make_user()).get("/")
    assert response["Location"] == "/status/"
