"""Errors of the services, each with a machine-readable code (SPEC §4–§5).

Which HTTP status a code becomes is the API's business (api/errors.py), not the core's.
"""

from enum import StrEnum


class ErrorCode(StrEnum):
    INVALID_TRANSITION = "invalid_transition"
    NO_WORKFLOW_BINDING = "no_workflow_binding"
    WORKFLOW_BINDING_ERROR = "workflow_binding_error"
    APPROVAL_REQUIRED = "approval_required"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    DEPLOY_IN_PROGRESS = "deploy_in_progress"
    ACTIVATION_FAILED = "activation_failed"
    DEPLOY_INCOMPLETE = "deploy_incomplete"
    # The deploy outlived DEPLOY_STALE_AFTER_SECONDS and reconcile settled it first.
    DEPLOY_RECONCILED = "deploy_reconciled"
    # The version's author may not approve it (DEPLOY_PREVENT_SELF_APPROVAL).
    SELF_APPROVAL = "self_approval"
    # Registration: the project already has this version label, with another workflow.
    VERSION_EXISTS = "version_exists"
    # Registration: the workflow already serves another version (one workflow, one version).
    WORKFLOW_IN_USE = "workflow_in_use"
    # Registration: the body names a project that does not exist.
    UNKNOWN_PROJECT = "unknown_project"
    # Adopting a manual activation: WRK does not report the workflow active.
    NOT_ACTIVE_ON_WRK = "not_active_on_wrk"
    # WRK could not be asked (after its retries) for a read the action depends on.
    WRK_UNAVAILABLE = "wrk_unavailable"


class ServiceError(Exception):
    """A refused or failed action, with a message a person can act on."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
