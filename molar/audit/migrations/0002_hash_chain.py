# SPEC T2: hash chain columns (existing rows are chained in id order), an
# explicit created_at (hashed before it is stored), and indexes for the report.

import django.utils.timezone
from django.db import migrations, models


def chain_existing(apps, schema_editor):
    """Chained existing rows by id. Superseded: 0003 drops these columns and
    the worker seals every event (old ones included) into the new chain."""


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(chain_existing, migrations.RunPython.noop),
        migrations.RemoveIndex(
            model_name="auditevent",
            name="audit_audit_action_0c0ad1_idx",
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="patient_id",
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["created_at", "id"], name="audit_created_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["patient_id", "created_at", "id"], name="audit_patient_created_idx"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["action", "created_at", "id"], name="audit_action_created_idx"),
        ),
    ]
