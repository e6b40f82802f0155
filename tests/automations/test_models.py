"""SPEC §2–§3: the invariants the database and django-fsm enforce by themselves."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, InternalError, ProgrammingError, connection, transaction
from django_fsm import TransitionNotAllowed

from audit.models import ActionType, AuditLog, AuditLogImmutableError
from audit.services import audit_log_create
from automations.errors import ErrorCode, ServiceError
from automations.models import AutomationVersion, Project, TransitionContext, VersionStatus
from automations.services import automation_version_stage
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db

CTX = TransitionContext(actor=None, origin="command")


def test_the_database_allows_one_live_version_per_project():
    project = make_project()
    v1, v2 = make_version(project, "v1"), make_version(project, "v2")
    AutomationVersion.objects.filter(pk=v1.pk).update(status="Live")
    with pytest.raises(IntegrityError), transaction.atomic():
        AutomationVersion.objects.filter(pk=v2.pk).update(status="Live")
    # Another project may have its own Live version.
    other = make_version(make_project())
    AutomationVersion.objects.filter(pk=other.pk).update(status="Live")


def test_the_database_refuses_an_unknown_status():
    version = make_version(make_project())
    with pytest.raises(IntegrityError), transaction.atomic():
        AutomationVersion.objects.filter(pk=version.pk).update(status="live")


def test_stored_status_strings_are_the_contract():
    version = make_version(make_project())
    with connection.cursor() as cursor:
        cursor.execute("SELECT status FROM automation_versions WHERE id = %s", [version.pk])
        assert cursor.fetchone() == ("Ready to Launch",)
        cursor.execute(
            "SELECT status FROM workflow_bindings WHERE automation_version_id = %s", [version.pk]
        )
        assert cursor.fetchone() == ("pending",)


def test_the_status_field_cannot_be_assigned():
    version = make_version(make_project())
    with pytest.raises(AttributeError):
        version.status = VersionStatus.LIVE


def test_deploy_is_only_possible_from_ready_to_launch():
    version = make_version(make_project(), ready=False)
    with pytest.raises(TransitionNotAllowed):
        version.deploy(ctx=CTX)


def test_deploy_and_the_other_side_effect_transitions_are_hidden_from_admin_buttons():
    every = AutomationVersion().get_all_status_transitions()  # type: ignore[attr-defined]
    transitions = {t.name: t for t in every}
    assert {"deploy", "fail", "archive", "restage", "mark_ready"} <= set(transitions)
    assert all(t.custom.get("admin") is False for t in transitions.values())


def test_staging_a_draft_needs_a_binding():
    version = make_version(make_project(), binding=False)
    with pytest.raises(ServiceError) as raised:
        automation_version_stage(version_id=version.pk, actor=None, source="command")
    assert raised.value.code == ErrorCode.NO_WORKFLOW_BINDING


@pytest.mark.parametrize("status", ["Ready to Launch", "Live"])
def test_staging_refuses_ready_and_live_versions(status):
    version = make_version(make_project())
    AutomationVersion.objects.filter(pk=version.pk).update(status=status)
    with pytest.raises(ServiceError) as raised:
        automation_version_stage(version_id=version.pk, actor=None, source="command")
    assert raised.value.code == ErrorCode.INVALID_TRANSITION
    assert AutomationVersion.objects.get(pk=version.pk).status == status


@pytest.mark.parametrize("status", ["Error", "Archived"])
def test_staging_restages_error_and_archived_versions(status):
    version = make_version(make_project())
    AutomationVersion.objects.filter(pk=version.pk).update(status=status)
    staged = automation_version_stage(version_id=version.pk, actor=None, source="command")
    assert staged.status == VersionStatus.READY
    row = AuditLog.objects.get(action_type="restage", resource_id=str(version.pk))
    assert row.metadata["rollback"] is (status == "Archived")


@pytest.mark.parametrize("ready", [True, False])
def test_staging_needs_the_permission_and_checks_it_before_the_lookup(ready):
    staff = make_user(staff=True)
    version = make_version(make_project(), ready=ready)
    for version_id in (version.pk, 987654):
        with pytest.raises(ServiceError) as raised:
            automation_version_stage(version_id=version_id, actor=staff, source="api")
        assert raised.value.code == ErrorCode.PERMISSION_DENIED


def test_the_ops_group_holds_the_deploy_permission():
    ops, other = make_user(ops=True), make_user(staff=True)
    assert ops.has_perm("automations.deploy_automationversion")
    assert not other.has_perm("automations.deploy_automationversion")


def _audit_row(project: Project | None = None) -> AuditLog:
    return audit_log_create(
        actor=make_user(),
        action_type=ActionType.DEPLOY,
        resource_type="automation_version",
        resource_id=1,
        project_id=project.pk if project else None,
        metadata={},
    )


def test_audit_rows_cannot_be_changed_or_deleted_through_the_orm():
    row = _audit_row()
    row.metadata = {"tampered": True}
    with pytest.raises(AuditLogImmutableError):
        row.save()
    with pytest.raises(AuditLogImmutableError):
        row.delete()
    with pytest.raises(AuditLogImmutableError):
        AuditLog.objects.filter(pk=row.pk).update(action_type="archive")
    with pytest.raises(AuditLogImmutableError):
        AuditLog.objects.filter(pk=row.pk).delete()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_logs SET action_type = 'archive' WHERE id = %s",
        "DELETE FROM audit_logs WHERE id = %s",
    ],
)
def test_the_database_trigger_refuses_update_and_delete(sql):
    row = _audit_row()
    with (
        pytest.raises((InternalError, ProgrammingError)) as raised,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [row.pk])
    assert "append-only" in str(raised.value)
    assert AuditLog.objects.get(pk=row.pk).action_type == "deploy"


def test_deleting_a_project_or_a_user_keeps_its_audit_rows():
    project = make_project()
    project_id = project.pk
    row = _audit_row(project)
    project.delete()
    assert row.actor is not None
    row.actor.delete()
    kept = AuditLog.objects.get(pk=row.pk)
    assert kept.project_id == project_id
    assert kept.actor_username.startswith("user")


def test_staging_an_unknown_version_is_not_found():
    with pytest.raises(ServiceError) as raised:
        automation_version_stage(version_id=987654, actor=None, source="api")
    assert raised.value.code == ErrorCode.NOT_FOUND
