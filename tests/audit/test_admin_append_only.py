"""The admin never offers a way around the append-only audit trail."""

import pytest
from django.contrib.auth.models import User

from audit.models import ActionType, AuditLog
from audit.services import audit_log_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


def test_audit_admin_refuses_add_change_and_delete_even_to_a_superuser(superuser_client):
    row = audit_log_create(
        actor=None,
        action_type=ActionType.DEPLOY,
        resource_type="automation_version",
        resource_id=1,
        project_id=None,
        metadata={},
    )
    base = "/admin/audit/auditlog/"
    assert superuser_client.get(base).status_code == 200
    assert superuser_client.get(f"{base}add/").status_code == 403
    assert superuser_client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    superuser_client.post(
        base, {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert AuditLog.objects.filter(pk=row.pk).exists()
    # The change page is a read-only view: posting to it changes nothing.
    superuser_client.post(f"{base}{row.pk}/change/", {"action_type": "archive"})
    assert AuditLog.objects.get(pk=row.pk).action_type == "deploy"
