"""The "old workflow still active" incident becomes a field of the binding; deployments
adopted from a manual activation in WRK get the source `manual`."""

from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import F


def open_existing_incidents(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # A binding still active under an Archived version is a deactivation that failed before
    # this field existed: it is an open incident (already alerted once), dated as well as
    # the row allows.
    apps.get_model("automations", "WorkflowBinding").objects.filter(
        status="active", automation_version__status="Archived"
    ).update(deactivation_failed_at=F("updated_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('automations', '0006_unknown_attempts_and_active_in_error'),
    ]

    operations = [
        migrations.AddField(
            model_name='workflowbinding',
            name='deactivation_failed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AlterField(
            model_name='deployment',
            name='source',
            field=models.CharField(choices=[('admin', 'Admin'), ('api', 'Api'), ('command', 'Command'), ('reconcile', 'Reconcile'), ('manual', 'Manual')], max_length=16),
        ),
        migrations.RunPython(open_existing_incidents, migrations.RunPython.noop),
    ]
