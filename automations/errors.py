"""Errors of the services, each with the machine-readable code and HTTP status of SPEC §4–§5."""

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


HTTP_STATUS = {
    ErrorCode.INVALID_TRANSITION: 400,
    ErrorCode.NO_WORKFLOW_BINDING: 400,
    ErrorCode.WORKFLOW_BINDING_ERROR: 400,
    ErrorCode.APPROVAL_REQUIRED: 400,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DEPLOY_IN_PROGRESS: 409,
    ErrorCode.ACTIVATION_FAILED: 502,
    ErrorCode.DEPLOY_INCOMPLETE: 500,
}


class ServiceError(Exception):
    """A refused or failed action, with a message a person can act on."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]
