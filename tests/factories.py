"""Test data built through the project's own services where a path exists."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth.models import Group, User
from django.utils import timezone

from automations.models import AutomationVersion, Client, Project
from automations.selectors import OPS_GROUP
from automations.services import automation_version_stage, workflow_binding_create
from notifications.models import Delivery

_seq = itertools.count(1)


def make_user(*, ops: bool = False, staff: bool | None = None, email: str | None = None) -> User:
    n = next(_seq)
    user = User.objects.create_user(
        username=f"user{n}",
        email=email if email is not None else f"user{n}@example.com",
        password="pw",
        is_staff=ops if staff is None else staff,
    )
    if ops:
        user.groups.add(Group.objects.get(name=OPS_GROUP))
    return user


def make_project(*, contact_email: str = "contact@client.example") -> Project:
    n = next(_seq)
    client = Client.objects.create(
        name=f"Client {n}", slug=f"client-{n}", contact_email=contact_email
    )
    return Project.objects.create(client=client, name=f"Project {n}", slug=f"project-{n}")


def make_version(
    project: Project,
    label: str | None = None,
    *,
    workflow_id: str | None = None,
    binding: bool = True,
    ready: bool = True,
) -> AutomationVersion:
    version = AutomationVersion.objects.create(project=project, version=label or f"v{next(_seq)}")
    if binding:
        workflow_binding_create(
            version=version, workflow_id=workflow_id or f"wf-{project.slug}-{version.version}"
        )
    if ready and binding:
        automation_version_stage(version_id=version.pk, actor=None, source="command")
    return AutomationVersion.objects.select_related("project", "workflow_binding").get(
        pk=version.pk
    )


def delivery_payload(**facts: Any) -> dict[str, Any]:
    """What a deploy captures for its messages (notifications.services._facts)."""
    return {
        "client": "Client",
        "project": "Project",
        "project_slug": "project",
        "version": "v1",
        "version_id": 1,
        "workflow_id": "wf-project-v1",
        "actor": "ops",
        "at": timezone.now().isoformat(),
        "admin_url": "http://127.0.0.1:8000/admin/automations/automationversion/1/change/",
        "status_url": "http://127.0.0.1:8000/status/project/",
        **facts,
    }


def make_delivery(recipient: str, **fields: Any) -> Delivery:
    fields = {"channel": "email", "template": "deployment_success", **fields}
    fields.setdefault("payload", delivery_payload())
    return Delivery.objects.create(recipient=recipient, **fields)
