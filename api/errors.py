"""The HTTP status of each service error (SPEC §4–§5): the API's decision, not the core's."""

from django.http import JsonResponse

from automations.errors import ErrorCode, ServiceError

from .http import error_response

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_TRANSITION: 400,
    ErrorCode.NO_WORKFLOW_BINDING: 400,
    ErrorCode.WORKFLOW_BINDING_ERROR: 400,
    ErrorCode.APPROVAL_REQUIRED: 400,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DEPLOY_IN_PROGRESS: 409,
    # The request's deploy was settled by reconcile: a conflict with what happened meanwhile.
    ErrorCode.DEPLOY_RECONCILED: 409,
    ErrorCode.ACTIVATION_FAILED: 502,
    ErrorCode.DEPLOY_INCOMPLETE: 500,
    ErrorCode.SELF_APPROVAL: 400,
    # The body is well-formed but names a project that does not exist.
    ErrorCode.UNKNOWN_PROJECT: 400,
    # The registration conflicts with what is registered already.
    ErrorCode.VERSION_EXISTS: 409,
    ErrorCode.WORKFLOW_IN_USE: 409,
    # Adopting: the request is right, but WRK's state (the workflow inactive) contradicts
    # it; it may succeed once the workflow is activated by hand.
    ErrorCode.NOT_ACTIVE_ON_WRK: 409,
    # WRK could not be asked: an upstream failure, like activation_failed.
    ErrorCode.WRK_UNAVAILABLE: 502,
}


def http_status(error: ServiceError) -> int:
    return HTTP_STATUS[error.code]


def service_error_response(error: ServiceError) -> JsonResponse:
    return error_response(http_status(error), error.code, error.message)
