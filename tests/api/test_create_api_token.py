"""`create_api_token` makes tokens only for users who can use them, and says why not."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management import CommandError, call_command

from api.models import ApiToken
from api.selectors import API_PERMISSIONS
from api.services import api_token_authenticate
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def create_token(username: str) -> str:
    out = io.StringIO()
    call_command("create_api_token", username, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def with_permission(user: User, dotted: str) -> User:
    app_label, codename = dotted.split(".")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
    )
    return User.objects.get(pk=user.pk)  # without the cached permissions


def test_an_inactive_user_gets_no_token_and_is_told_why(ops_user):
    ops_user.is_active = False
    ops_user.save()

    with pytest.raises(CommandError, match="is inactive, and the API refuses"):
        create_token(ops_user.username)

    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("staff", [False, True])
def test_a_user_without_any_api_permission_gets_no_token_staff_or_not(staff):
    user = make_user(staff=staff)

    with pytest.raises(CommandError) as refused:
        create_token(user.username)

    message = str(refused.value)
    assert "holds none of the permissions the API checks" in message
    assert "being staff is not one of them" in message
    assert "Ops group" in message
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("permission", API_PERMISSIONS)
def test_any_one_api_permission_is_enough(permission):
    user = with_permission(make_user(), permission)

    assert api_token_authenticate(secret=create_token(user.username)) == user


def test_ops_users_and_superusers_get_tokens(ops_user):
    root = User.objects.create_superuser("root", "root@example.com", "pw")

    for user in (ops_user, root):
        assert api_token_authenticate(secret=create_token(user.username)) == user


def test_its_help_says_who_is_refused(capsys):
    with pytest.raises(SystemExit):
        call_command("create_api_token", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "an inactive user, or one holding none of the permissions the API checks" in help_text
