"""Ops act on versions through the deploy actions only; the form itself holds nothing for
them to edit, so they keep the view permission and lose the change one (no Save buttons)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def _permission(apps: Apps):  # type: ignore[no-untyped-def]
    return apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="automations", codename="change_automationversion"
    )


def forwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.get(name="Ops").permissions.remove(_permission(apps))


def backwards(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.get(name="Ops").permissions.add(_permission(apps))


class Migration(migrations.Migration):
    dependencies = [("automations", "0004_ready_to_launch_label")]

    operations = [migrations.RunPython(forwards, backwards)]
