from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """django.contrib.admin with deployflow's site as `admin.site` (see admin_site.py)."""

    default_site = "deployflow.admin_site.DeployflowAdminSite"
