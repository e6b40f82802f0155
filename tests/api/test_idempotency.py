"""SPEC §5, issue 11.4: `Idempotency-Key` on every mutating call. A retry with the same key
and body gets the first answer and changes nothing (counted in WRK calls and audit rows);
another body gets 422; keys are per user and expire after 24 h. The concurrent case, with
real threads, is in test_idempotency_concurrency.py."""

from __future__ import annotations

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client as HttpClient
from django.test import RequestFactory

from api.idempotency import idempotency_key
from api.models import IdempotencyKey
from api.services import api_token_create
from audit.models import AuditLog
from automations.models import AutomationVersion, Deployment, VersionStatus
from tests.clock import later, stale_deploys
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db

DAY = 24 * 3600


def patch(client: HttpClient, version_id: int, body: object, key: str | None = "k-1"):
    return client.patch(
        f"/v1/automation-versions/{version_id}/status",
        data=json.dumps(body),
        content_type="application/json",
        headers={} if key is None else {"Idempotency-Key": key},
    )


def register(client: HttpClient, body: dict, key: str = "k-1"):
    return client.post(
        "/v1/automation-versions",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Idempotency-Key": key},
    )


def status_of(version: AutomationVersion) -> str:
    return AutomationVersion.objects.get(pk=version.pk).status


def client_of(user) -> HttpClient:
    return HttpClient(headers={"Authorization": f"Bearer {api_token_create(user=user)[1]}"})


def test_a_retried_deploy_gets_the_first_answer_and_changes_nothing(api, wrk, live_project):
    _, _, v2 = live_project
    first = patch(api, v2.pk, {"status": "Live"})
    assert first.status_code == 200, first.content
    assert "Idempotent-Replayed" not in first
    audit_rows = AuditLog.objects.count()

    again = patch(api, v2.pk, {"status": "Live"})

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again["Content-Type"] == "application/json"
    assert again.content == first.content
    assert len(wrk.calls_for("activate")) == 1
    assert len(wrk.calls_for("deactivate")) == 1
    assert AuditLog.objects.count() == audit_rows
    assert Deployment.objects.filter(automation_version=v2).count() == 1


def test_a_request_without_a_key_is_not_deduplicated(api, wrk, live_project):
    _, _, v2 = live_project
    assert patch(api, v2.pk, {"status": "Live"}, key=None).status_code == 200
    # Without a key the second deploy runs, and is refused as the version is Live now.
    again = patch(api, v2.pk, {"status": "Live"}, key=None)
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid_transition"
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_another_body_gets_422_and_changes_nothing(api, wrk, live_project):
    _, _, v2 = live_project
    # Refused by the service (v2 is Ready already): a decision, stored under the key.
    assert patch(api, v2.pk, {"status": "Ready to Launch"}).status_code == 400

    response = patch(api, v2.pk, {"status": "Live"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "another body" in error["message"]
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls == []


def test_the_same_key_on_another_path_or_method_gets_422(api, wrk, live_project):
    _, v1, v2 = live_project
    assert patch(api, v2.pk, {"status": "Live"}).status_code == 200
    other_path = patch(api, v1.pk, {"status": "Live"})
    assert other_path.status_code == 422
    assert "another method or path" in other_path.json()["error"]["message"]
    approval = f"/v1/automation-versions/{v2.pk}/approval"
    assert api.post(approval, headers={"Idempotency-Key": "k-2"}).status_code == 400
    assert api.delete(approval, headers={"Idempotency-Key": "k-2"}).status_code == 422


def test_a_registration_replays_its_201_and_location(api, ops_user):
    project = make_project()
    body = {"project": project.pk, "version": "v1", "workflow_id": "wf-1"}
    first = register(api, body)
    assert first.status_code == 201
    again = register(api, body)
    # Without the key the same registration would answer 200: this is the first answer.
    assert (again.status_code, again["Location"]) == (201, first["Location"])
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert AutomationVersion.objects.filter(project=project).count() == 1


def test_approve_and_revoke_replay_their_answers(api, wrk, live_project, ops_user):
    _, _, v2 = live_project
    path = f"/v1/automation-versions/{v2.pk}/approval"
    approved = api.post(path, headers={"Idempotency-Key": "approve"})
    assert approved.status_code == 200
    assert approved.json()["approval"] is not None
    revoked = api.delete(path, headers={"Idempotency-Key": "revoke"})
    assert revoked.json()["approval"] is None
    audit_rows = AuditLog.objects.count()

    again = api.post(path, headers={"Idempotency-Key": "approve"})

    assert again["Idempotent-Replayed"] == "true"
    assert again.content == approved.content
    # Replayed, not run: the version stays unapproved and nothing is audited.
    assert AutomationVersion.objects.get(pk=v2.pk).approved_by is None
    assert AuditLog.objects.count() == audit_rows


def test_keys_are_per_user(api, ops_user):
    project = make_project()
    assert (
        register(api, {"project": project.pk, "version": "v1", "workflow_id": "wf-1"}).status_code
        == 201
    )
    other = client_of(make_user(ops=True))
    # The same key from another user names another request: neither 422 nor a replay.
    response = register(other, {"project": project.pk, "version": "v2", "workflow_id": "wf-2"})
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert AutomationVersion.objects.filter(project=project).count() == 2


def test_a_key_expires_after_24_hours(api, ops_user):
    project = make_project()
    first = {"project": project.pk, "version": "v1", "workflow_id": "wf-1"}
    second = {"project": project.pk, "version": "v2", "workflow_id": "wf-2"}
    assert register(api, first).status_code == 201
    with later(DAY - 60):
        assert register(api, second).status_code == 422
        assert register(api, first)["Idempotent-Replayed"] == "true"
    with later(DAY + 1):
        # A day on the key is free: the request runs as a new one.
        response = register(api, second)
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response
    assert AutomationVersion.objects.filter(project=project).count() == 2


def test_prune_deletes_the_keys_older_than_24_hours(api, ops_user):
    project = make_project()
    register(api, {"project": project.pk, "version": "v1", "workflow_id": "wf-1"}, key="old")
    with later(DAY - 60):
        register(api, {"project": project.pk, "version": "v2", "workflow_id": "wf-2"}, key="new")
    out = StringIO()
    with later(DAY + 1):
        call_command("prune_idempotency_keys", stdout=out)
    assert out.getvalue() == "Pruned 1 idempotency key(s).\n"
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.parametrize(
    "key",
    ["", " ", " leading", "trailing ", "a" * 256, "tab\tkey", "caf\xe9", "del\x7f", "nl\nkey"],
)
def test_an_invalid_key_gets_400_and_changes_nothing(api, wrk, live_project, key):
    _, _, v2 = live_project
    response = patch(api, v2.pk, {"status": "Live"}, key=key)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_idempotency_key"
    assert "1 to 255 printable ASCII characters" in error["message"]
    assert status_of(v2) == VersionStatus.READY
    assert wrk.calls == []


@pytest.mark.parametrize("key", ["a" * 255, "!", "~", "with inner spaces", "0b6f2f9c-uuid"])
def test_any_printable_ascii_key_up_to_255_characters_is_taken(api, wrk, live_project, key):
    _, _, v2 = live_project
    assert patch(api, v2.pk, {"status": "Live"}, key=key).status_code == 200
    assert patch(api, v2.pk, {"status": "Live"}, key=key)["Idempotent-Replayed"] == "true"


def test_reads_and_the_webhook_ignore_the_header(api, wrk, live_project):
    _, _, v2 = live_project
    response = api.get(f"/v1/automation-versions/{v2.pk}", headers={"Idempotency-Key": " "})
    assert response.status_code == 200
    # The WRK webhook (SPEC §5) is signed and deduplicates by event id instead.
    webhook = RequestFactory().post(
        "/v1/webhooks/wrk/run-events", headers={"Idempotency-Key": " bad "}
    )
    assert idempotency_key(webhook) is None


def test_a_refusal_for_the_body_is_not_stored(api, wrk, live_project):
    """Nothing ran: the corrected body may come with the same key."""
    _, _, v2 = live_project
    assert patch(api, v2.pk, {"status": "live"}).json()["error"]["code"] == "invalid_status"
    response = patch(api, v2.pk, {"status": "Live"})
    assert response.status_code == 200
    assert status_of(v2) == VersionStatus.LIVE


def test_a_refusal_by_the_service_is_stored(api, wrk, live_project):
    _, v1, _ = live_project
    first = patch(api, v1.pk, {"status": "Live"})
    assert first.json()["error"]["code"] == "invalid_transition"
    again = patch(api, v1.pk, {"status": "Live"})
    assert (again.status_code, again["Idempotent-Replayed"]) == (400, "true")
    assert again.content == first.content


def test_a_failed_activation_is_replayed_without_calling_wrk_again(api, wrk, live_project):
    _, _, v2 = live_project
    wrk.fail_next(100, status=503, op="activate")
    first = patch(api, v2.pk, {"status": "Live"})
    assert first.json()["error"]["code"] == "activation_failed"
    attempts = len(wrk.calls_for("activate"))
    audit_rows = AuditLog.objects.count()

    again = patch(api, v2.pk, {"status": "Live"})

    assert (again.status_code, again["Idempotent-Replayed"]) == (502, "true")
    assert again.content == first.content
    assert len(wrk.calls_for("activate")) == attempts
    assert AuditLog.objects.count() == audit_rows


def test_deploy_in_progress_is_not_stored_so_the_retry_deploys(api, wrk, live_project):
    project, _, v2 = live_project
    other = Deployment.objects.create(
        project=project, automation_version=make_version(project), workflow_id="x", source="api"
    )
    refused = patch(api, v2.pk, {"status": "Live"})
    assert refused.json()["error"]["code"] == "deploy_in_progress"
    Deployment.objects.filter(pk=other.pk).update(status="failed")

    retried = patch(api, v2.pk, {"status": "Live"})

    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert status_of(v2) == VersionStatus.LIVE


def test_a_claim_left_by_a_dead_process_is_taken_over_once_stale(api, wrk, live_project, ops_user):
    _, _, v2 = live_project
    body = json.dumps({"status": "Live"}).encode()
    # What a process that died while its deploy ran leaves behind.
    IdempotencyKey.objects.create(
        user=ops_user,
        key="k-1",
        method="PATCH",
        path=f"/v1/automation-versions/{v2.pk}/status",
        body_digest=hashlib.sha256(body).hexdigest(),
    )
    in_use = patch(api, v2.pk, {"status": "Live"})
    assert in_use.status_code == 409
    assert in_use.json()["error"]["code"] == "idempotency_key_in_use"
    assert in_use["Retry-After"] == "2"
    assert wrk.calls == []

    with stale_deploys():
        response = patch(api, v2.pk, {"status": "Live"})
        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
        assert patch(api, v2.pk, {"status": "Live"})["Idempotent-Replayed"] == "true"
    assert len(wrk.calls_for("activate")) == 1


@pytest.fixture
def failing_audit():
    """A real failure inside the approval's transaction: PostgreSQL refuses audit rows."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'injected failure'; END; $$ LANGUAGE plpgsql"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON audit_logs "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_refuse ON audit_logs")
        cursor.execute("DROP FUNCTION IF EXISTS test_refuse()")


def test_a_500_releases_the_key(wrk, live_project, ops_user, failing_audit, api_token):
    _, _, v2 = live_project
    client = HttpClient(
        headers={"Authorization": f"Bearer {api_token}"}, raise_request_exception=False
    )
    path = f"/v1/automation-versions/{v2.pk}/approval"
    failed = client.post(path, headers={"Idempotency-Key": "approve"})
    assert failed.status_code == 500
    assert failed.json()["error"]["code"] == "internal_error"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_logs DISABLE TRIGGER test_refuse")

    retried = client.post(path, headers={"Idempotency-Key": "approve"})

    assert retried.status_code == 200
    assert "Idempotent-Replayed" not in retried
    assert AutomationVersion.objects.get(pk=v2.pk).approved_by == ops_user


def test_the_openapi_document_gives_every_mutating_operation_the_header(client):
    doc = client.get("/v1/openapi.json").json()
    mutating = [
        operation
        for url, path in doc["paths"].items()
        for method, operation in path.items()
        # The webhook is signed and idempotent by event id instead.
        if method in {"post", "patch", "put", "delete"} and not url.startswith("/v1/webhooks/")
    ]
    assert len(mutating) == 4
    webhook = doc["paths"]["/v1/webhooks/wrk/run-events"]["post"]
    assert "Idempotency-Key" not in [p["name"] for p in webhook["parameters"]]
    for operation in mutating:
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key"
        assert header["schema"]["maxLength"] == 255
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
        assert "idempotency_key_in_use" in operation["responses"]["409"]["description"]
        assert "invalid_idempotency_key" in operation["responses"]["400"]["description"]
