"""What the core tells the apps built on it (audit, notifications, monitoring).

The core imports none of them: it sends these signals, and each app connects its thin
receivers in its `AppConfig.ready()`. Every signal is sent inside the database transaction of
the change it reports, so what a receiver writes (an audit row, an outbox row) commits or
rolls back with that change.

Version transitions arrive through django-fsm's `post_transition`, which automations turns
into the signal of that transition (see receivers.py); receivers get `version`, `source` and
`target` (the stored statuses) and `ctx` (a `TransitionContext`).
"""

from django.dispatch import Signal

version_marked_ready = Signal()
version_deployed = Signal()
version_deploy_failed = Signal()
version_archived = Signal()
version_restaged = Signal()

# Not transitions. Keyword arguments: `version`, `actor`, `source`.
version_approved = Signal()
version_approval_revoked = Signal()
# A build (or ops) registered a version: `version`, `actor`, `source`.
version_registered = Signal()

# A replaced version's workflow: `binding`, `actor`, `origin`, `attempts`, and `error` or
# `already_inactive`. Sent for every attempt (each is audited).
workflow_deactivated = Signal()
workflow_deactivation_failed = Signal()
# The "old workflow still active" incident, once each however many attempts fail in
# between: opened by the first failure (`binding`, `actor`, `origin`, `error`), resolved when
# WRK confirms the deactivation or the version goes Live again (`binding`, `actor`,
# `origin`, `how`: "deactivated" or "live_again").
workflow_deactivation_incident_opened = Signal()
workflow_deactivation_incident_resolved = Signal()

# WRK runs the workflow of a version in Error: somebody activated it by hand, as the source
# document allows when the API fails. Reported once, never undone behind ops' back:
# `binding`, `origin`.
workflow_active_in_error = Signal()
