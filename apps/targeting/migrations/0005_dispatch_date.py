# A dispatch proposal is for a day and shift (issue 23, item 3). Proposals made before had no day: each
# gets the day it was made on (in the centre's time zone), so the dispatch page still finds it.

from django.db import migrations, models
from django.utils import timezone


def day_made(apps, schema_editor):
    DispatchProposal = apps.get_model("targeting", "DispatchProposal")
    for proposal in DispatchProposal.objects.filter(date__isnull=True).only("pk", "created_at").iterator():
        DispatchProposal.objects.filter(pk=proposal.pk).update(date=timezone.localdate(proposal.created_at))


class Migration(migrations.Migration):

    dependencies = [
        ('targeting', '0004_keyed_chain'),
    ]

    operations = [
        migrations.AddField(
            model_name='dispatchproposal',
            name='capacity_source',
            field=models.JSONField(blank=True, default=dict, help_text="Per method: the weekly default or the calendar's day (and why)."),
        ),
        migrations.AddField(
            model_name='dispatchproposal',
            name='date',
            field=models.DateField(blank=True, help_text='The day of the shift (the day it starts).', null=True),
        ),
        migrations.RunPython(day_made, migrations.RunPython.noop),
    ]
