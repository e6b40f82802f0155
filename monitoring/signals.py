"""What monitoring tells the apps built on it (audit, notifications).

Monitoring imports none of them: it sends these signals inside the transaction of the change
they report, and each app connects its thin receivers in its `AppConfig.ready()`, so an
alert or an audit row commits or rolls back with the incident. Keyword argument: `incident`
(its `kind` says whether it is a failing streak or a drift).
"""

from django.dispatch import Signal

incident_opened = Signal()
incident_resolved = Signal()
