"""Ops see deliveries and notifications, and may resend a failed delivery."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CODENAMES = ["view_delivery", "resend_delivery", "view_notification"]


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    app_config = apps.get_app_config("notifications")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.get(name="Ops")
    permission_model = apps.get_model("auth", "Permission")
    group.permissions.add(
        *permission_model.objects.filter(
            content_type__app_label="notifications", codename__in=CODENAMES
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_resend_permission"),
        ("automations", "0002_ops_group"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
