"""Ops add projects and register versions in the admin (a version with its workflow id when
the build has finished); existing versions stay view-only (see 0005)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CODENAMES = ["add_project", "add_automationversion"]


def _permissions(apps: Apps) -> list[object]:
    return list(
        apps.get_model("auth", "Permission").objects.filter(
            content_type__app_label="automations", codename__in=CODENAMES
        )
    )


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.get(name="Ops").permissions.add(*_permissions(apps))


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for group in apps.get_model("auth", "Group").objects.filter(name="Ops"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [("automations", "0007_deactivation_incident_and_manual_source")]

    operations = [migrations.RunPython(grant, revoke)]
