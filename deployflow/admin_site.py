"""The admin site of deployflow, installed by `deployflow.apps.AdminConfig`."""

from django.contrib.admin import AdminSite


class DeployflowAdminSite(AdminSite):
    site_title = "deployflow"
    site_header = "deployflow"
    index_title = "Operations"
    # The app list beside every page takes a quarter of a 1280 px screen, which changelists
    # need for their columns; Home and the breadcrumbs lead to every app instead.
    enable_nav_sidebar = False
    # The dash our own columns use for "nothing", instead of Django's hyphen.
    empty_value_display = "—"
