"""Django's model permissions, read in one query instead of two.

Every deploy, approval and API call asks `has_perm` for a user fetched fresh for the
request; ModelBackend reads that user's own and group permissions in two round trips.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The session's user with their status-page profile (time zone, feed token) joined
        in: every status page reads it, and this way it costs no query of its own. A user
        without a profile gets None cached, so asking for it costs no query either."""
        user_model = get_user_model()
        try:
            user = user_model._default_manager.select_related("status_profile").get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            fields = ("content_type__app_label", "codename")
            if user_obj.is_superuser:
                rows = Permission.objects.values_list(*fields).order_by()
            else:
                # No ORDER BY in the parts: SQLite (the demo) refuses it inside a UNION.
                own = Permission.objects.filter(user=user_obj).values_list(*fields).order_by()
                groups = Permission.objects.filter(group__user=user_obj).values_list(*fields)
                rows = own.union(groups.order_by()).order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
