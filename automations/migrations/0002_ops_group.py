"""The Ops group holds the permissions to deploy, approve, restage and mark ready."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

OPS_PERMISSIONS = [
    ("automations", "deploy_automationversion"),
    ("automations", "approve_automationversion"),
    ("automations", "restage_automationversion"),
    ("automations", "mark_ready_automationversion"),
    ("automations", "view_automationversion"),
    ("automations", "change_automationversion"),
    ("automations", "view_project"),
    ("automations", "view_client"),
    ("automations", "view_workflowbinding"),
    ("automations", "view_deployment"),
]


def create_ops_group(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally made after all migrations; the group needs them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    group, _ = group_model.objects.get_or_create(name="Ops")
    for app_label, codename in OPS_PERMISSIONS:
        group.permissions.add(
            permission_model.objects.get(content_type__app_label=app_label, codename=codename)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("automations", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_ops_group, migrations.RunPython.noop)]
