from django.contrib import admin

from apps.core.admin import ScopedModelAdmin
from apps.intake.models import DataSource


@admin.register(DataSource)
class DataSourceAdmin(ScopedModelAdmin):
    list_display = ["name", "kind", "owner_agency", "retention_days", "depersonalise_after_days"]
    list_filter = ["kind", "owner_agency"]
