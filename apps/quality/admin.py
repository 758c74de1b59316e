from django.contrib import admin

from apps.core.admin import ScopedModelAdmin
from apps.quality.models import CarrierContact


@admin.register(CarrierContact)
class CarrierContactAdmin(ScopedModelAdmin):
    """The carriers' data contacts: where a request for missing data goes (scoped by the source)."""

    list_display = ("carrier", "name", "email", "source")
    list_filter = ("source",)
    search_fields = ("carrier", "name", "email")
