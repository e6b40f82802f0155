"""Django's model permissions, read in one query instead of two.

Every deploy, approval and API call asks `has_perm` for a user fetched fresh for the
request; ModelBackend reads that user's own and group permissions in two round trips.
"""

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class OneQueryModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            if user_obj.is_superuser:
                permissions = Permission.objects.all()
            else:
                # Unordered parts: SQLite (the demo) refuses ORDER BY inside a UNION, and
                # Permission is ordered by default.
                own = Permission.objects.filter(user=user_obj).order_by()
                permissions = own.union(Permission.objects.filter(group__user=user_obj).order_by())
            rows = permissions.values_list("content_type__app_label", "codename").order_by()
            user_obj._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
        return user_obj._perm_cache
