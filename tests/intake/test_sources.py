from django.urls import reverse

from apps.intake.services import share_source
from tests.factories import DataSourceFactory


def test_sources_page_lists_own_and_shared_sources_only(world, client_for, police_liaison, customs_admin):
    own = DataSourceFactory(owner_agency=world.police, name="Police lookouts")
    shared = DataSourceFactory(owner_agency=world.customs, name="Air cargo manifests")
    DataSourceFactory(owner_agency=world.customs, name="Import declarations")
    share_source(actor=customs_admin, source=shared, agency=world.police)
    page = client_for(police_liaison).get(reverse("intake:sources")).content.decode()
    assert own.name in page and shared.name in page and "Import declarations" not in page


def test_shared_source_detail_hides_its_sharing_list_from_partners(
    world, client_for, police_liaison, customs_admin
):
    source = DataSourceFactory(owner_agency=world.customs, name="Air cargo manifests")
    share_source(actor=customs_admin, source=source, agency=world.police)
    share_source(actor=customs_admin, source=source, agency=world.bio)
    page = client_for(police_liaison).get(reverse("intake:source", args=[source.pk])).content.decode()
    assert "Air cargo manifests" in page and "Biosecurity" not in page


def test_sources_api_is_scoped(world, client_for, outsider):
    DataSourceFactory(owner_agency=world.customs)
    data = client_for(outsider).get(reverse("source-list")).json()
    assert data["results"] == []
