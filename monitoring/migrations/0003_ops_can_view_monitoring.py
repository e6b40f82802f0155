"""Ops read run events, rollups and incidents in the admin; only the services write them."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CODENAMES = ["view_runevent", "view_incident", "view_runrollup", "view_monitor"]


def _permissions(apps: Apps) -> list[object]:
    permission_model = apps.get_model("auth", "Permission")
    return list(
        permission_model.objects.filter(
            content_type__app_label="monitoring", codename__in=CODENAMES
        )
    )


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally made after all migrations; the grant needs them now.
    app_config = apps.get_app_config("monitoring")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    group = apps.get_model("auth", "Group").objects.get(name="Ops")
    group.permissions.add(*_permissions(apps))


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for group in apps.get_model("auth", "Group").objects.filter(name="Ops"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_monitors_rollups_incidents"),
        ("automations", "0002_ops_group"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
