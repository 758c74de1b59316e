# Queue breaches follow the service levels (issue 23, item 4): each summary row keeps when its decision
# was due. Rows written before were counted by the old rule (decided two hours before arrival); they keep
# that rule, given a due time to match, until the target changes and its row is rewritten.

from datetime import timedelta

from django.db import migrations, models
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, F, Value


def due_by_the_old_rule(apps, schema_editor):
    TargetStat = apps.get_model("reports", "TargetStat")
    TargetStat.objects.filter(arrival_at__isnull=False).update(
        decision_due=ExpressionWrapper(
            F("arrival_at") - Value(timedelta(hours=2), DurationField()), output_field=DateTimeField()
        )
    )


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0003_release_and_step_times'),
    ]

    operations = [
        migrations.AddField(
            model_name='targetstat',
            name='decision_due',
            field=models.DateTimeField(blank=True, help_text='When the decision was due (targeting.models.decision_due).', null=True),
        ),
        migrations.AlterField(
            model_name='targetstat',
            name='breached',
            field=models.BooleanField(default=False, help_text='Not decided by ``decision_due``.'),
        ),
        migrations.RunPython(due_by_the_old_rule, migrations.RunPython.noop),
    ]
