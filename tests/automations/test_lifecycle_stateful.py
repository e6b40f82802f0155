"""Issue 11.7: a hypothesis state machine over the lifecycle (deploy, fail, restage,
approve, rollback, reconcile) while WRK fails at random. After every step: at most one Live
version per project, the Live version's binding active, what the database says is active
or inactive is what WRK says, and one audit row per status change."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from audit.models import ActionType, AuditLog
from automations.deploy import automation_version_deploy
from automations.errors import ServiceError
from automations.models import AutomationVersion, BindingStatus, VersionStatus
from automations.reconcile import deployments_reconcile
from automations.services import automation_version_approve, automation_version_stage
from devtools.fake_wrk import FakeWrk
from tests.factories import make_project, make_user, make_version

pytestmark = pytest.mark.django_db

TRANSITIONS = [
    ActionType.MARK_READY,
    ActionType.DEPLOY,
    ActionType.DEPLOY_FAILED,
    ActionType.ARCHIVE,
    ActionType.RESTAGE,
]
VERSIONS = 3


class Lifecycle(RuleBasedStateMachine):
    wrk: FakeWrk  # set by the test: the stand-in WRK over HTTP

    @initialize(approval=st.booleans())
    def start(self, approval: bool) -> None:
        self.override = override_settings(DEPLOY_REQUIRE_APPROVAL=approval)
        self.override.enable()
        self.wrk.reset()
        self.ops: list[User] = [make_user(ops=True), make_user(ops=True)]
        project = make_project()
        self.versions = [make_version(project, f"v{i}") for i in range(VERSIONS)]
        # Status changes seen so far, per version: each needs its own audit row.
        self.changes = {v.pk: 1 for v in self.versions}  # mark_ready at creation
        self.seen = {v.pk: VersionStatus.READY.value for v in self.versions}

    def teardown(self) -> None:
        override = getattr(self, "override", None)
        if override is not None:
            override.disable()

    def _attempt(self, action: Any) -> None:
        # A refusal or a WRK failure: the invariants say whether it was handled.
        with contextlib.suppress(ServiceError):
            action()
        for version in AutomationVersion.objects.filter(pk__in=self.changes):
            if version.status != self.seen[version.pk]:
                self.changes[version.pk] += 1
                self.seen[version.pk] = version.status

    @rule(i=st.integers(0, VERSIONS - 1), who=st.integers(0, 1))
    def deploy(self, i: int, who: int) -> None:
        version_id, actor = self.versions[i].pk, self.ops[who]
        self._attempt(
            lambda: automation_version_deploy(version_id=version_id, actor=actor, source="api")
        )

    @rule(i=st.integers(0, VERSIONS - 1))
    def stage(self, i: int) -> None:
        """A retry after Error, or a rollback of an Archived version."""
        version_id = self.versions[i].pk
        self._attempt(
            lambda: automation_version_stage(version_id=version_id, actor=self.ops[0], source="api")
        )

    @rule(i=st.integers(0, VERSIONS - 1), who=st.integers(0, 1))
    def approve(self, i: int, who: int) -> None:
        version_id, actor = self.versions[i].pk, self.ops[who]
        self._attempt(
            lambda: automation_version_approve(version_id=version_id, actor=actor, source="api")
        )

    @rule(n=st.integers(1, 4), op=st.sampled_from(["activate", "deactivate"]))
    def wrk_fails(self, n: int, op: str) -> None:
        self.wrk.fail_next(n, status=503, op=op)

    @rule()
    def wrk_heals(self) -> None:
        self.wrk.reset()

    @rule()
    def reconcile(self) -> None:
        self._attempt(deployments_reconcile)

    @invariant()
    def at_most_one_live_and_its_binding_active(self) -> None:
        if not hasattr(self, "versions"):
            return
        rows = AutomationVersion.objects.filter(pk__in=self.changes).select_related(
            "workflow_binding"
        )
        live = [v for v in rows if v.status == VersionStatus.LIVE]
        assert len(live) <= 1
        for version in live:
            assert version.workflow_binding.status == BindingStatus.ACTIVE
        # The database never claims what WRK did not confirm.
        for version in rows:
            binding = version.workflow_binding
            on_wrk = self.wrk.is_active(binding.workflow_id)
            if binding.status == BindingStatus.ACTIVE and version.status == VersionStatus.LIVE:
                assert on_wrk is True
            if binding.status == BindingStatus.INACTIVE:
                assert on_wrk is False

    @invariant()
    def one_audit_row_per_status_change(self) -> None:
        if not hasattr(self, "versions"):
            return
        for version_id, changes in self.changes.items():
            rows = AuditLog.objects.filter(
                resource_type="automation_version",
                resource_id=str(version_id),
                action_type__in=TRANSITIONS,
            ).count()
            assert rows == changes


def test_the_lifecycle_keeps_its_invariants_whatever_happens(wrk):
    Lifecycle.wrk = wrk
    run_state_machine_as_test(
        Lifecycle,
        settings=hsettings(max_examples=25, stateful_step_count=15, deadline=None),
    )
