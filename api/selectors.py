"""Reads of the API app."""

from django.contrib.auth.models import User

from automations.models import (
    PERM_ADD,
    PERM_APPROVE,
    PERM_DEPLOY,
    PERM_MARK_READY,
    PERM_RESTAGE,
)

# Every permission an endpoint under /v1/ checks, in its view (views.py, lists.py) or in
# the service it calls. A bearer token answers 403 everywhere to a user holding none of
# them; being staff is no such permission (the API never asks a token's user for it).
API_PERMISSIONS = (
    "automations.view_automationversion",
    "automations.view_project",
    "automations.view_deployment",
    PERM_ADD,
    PERM_MARK_READY,
    PERM_RESTAGE,
    PERM_DEPLOY,
    PERM_APPROVE,
)


def api_token_refusal(*, user: User) -> str | None:
    """Why a token for `user` could never be used, or None when it can: the user is
    inactive (the API refuses their tokens), or holds none of API_PERMISSIONS, directly,
    through a group, or as a superuser."""
    name = user.get_username()
    if not user.is_active:
        return f"User {name!r} is inactive, and the API refuses an inactive user's tokens."
    if not any(user.has_perm(permission) for permission in API_PERMISSIONS):
        return (
            f"User {name!r} holds none of the permissions the API checks, so every call "
            "would answer 403 (being staff is not one of them). Add the user to the Ops "
            "group, or grant one of: " + ", ".join(API_PERMISSIONS) + "."
        )
    return None
