"""Watchlist pages: counts, search, entry detail, imports with progress, the screening tool, permissions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.agencies.roles import Role
from apps.watchlists.models import ImportRun
from tests.factories import member

pytestmark = pytest.mark.django_db

CSV = b"id,name,aliases,date_of_birth,nationality\n1,Ivan Petrov,Ivan Petroff,1970-03-02,RU\n2,Olga Petrova,,1972,RU\n"


def test_list_page_shows_counts_per_kind_and_last_import(
    client_for, customs_analyst, customs_list, police_list
):
    page = client_for(customs_analyst).get(reverse("watchlists:list")).content.decode()
    assert "Customs lookouts" in page and "Police lookouts" not in page
    assert "Person <strong>2</strong>" in page and "Vessel <strong>1</strong>" in page
    assert "New watchlist" not in page  # analysts view, risk managers and liaison officers manage


def test_risk_manager_creates_a_list_owned_by_their_agency(client_for, risk_manager, world):
    response = client_for(risk_manager).post(
        reverse("watchlists:list"),
        {"name": "Cash couriers", "default_handling": "examine", "risk_area": "currency", "weight": 70},
    )
    assert response.status_code == 302
    detail = client_for(risk_manager).get(response.url).content.decode()
    assert "Cash couriers" in detail and "Import" in detail


def test_detail_searches_entries_by_name_alias_and_document(client_for, customs_analyst, customs_list):
    client = client_for(customs_analyst)
    url = reverse("watchlists:detail", args=[customs_list.pk])
    assert "3 alias" not in client.get(url).content.decode()
    by_alias = client.get(url, {"q": "Viktor Bout"}).content.decode()
    assert "BOUTOV" in by_alias and "Maria" not in by_alias
    by_doc = client.get(url, {"q": "21N0588029"}, HTTP_HX_REQUEST="true").content.decode()
    assert "BOUTOV" in by_doc and "<html" not in by_doc  # htmx gets only the results fragment
    assert "Ocean Voyager" in client.get(url, {"kind": "vessel"}).content.decode()


def test_entry_page_shows_aliases_dates_documents_expiry_and_handling(
    client_for, customs_analyst, customs_list
):
    entry = customs_list.entries.get(external_id="C-1")
    page = client_for(customs_analyst).get(reverse("watchlists:entry", args=[entry.pk])).content.decode()
    for text in ("Viktor Bout", "weak", "1967-01-13", "21N0588029", "Examine, then notify", "never"):
        assert text in page
    assert "Handling and expiry" not in page  # no form for an analyst


def test_owner_manager_sets_handling_and_expiry_others_may_not(
    client_for, risk_manager, customs_analyst, customs_list, world
):
    entry = customs_list.entries.get(external_id="C-2")
    url = reverse("watchlists:entry", args=[entry.pk])
    data = {"handling_code": "hold", "expires_on": "2030-01-01", "active": "on"}
    assert client_for(customs_analyst).post(url, data).status_code == 403
    assert client_for(risk_manager).post(url, data).status_code == 302
    entry.refresh_from_db()
    assert entry.handling_code == "hold" and str(entry.expires_on) == "2030-01-01"
    # A police liaison officer manages police lists, but not a customs list (even when shared with POL).
    from apps.watchlists.services import share_watchlist

    share_watchlist(actor=None, watchlist=customs_list, agency=world.police)
    liaison = member("pete", world.police, Role.LIAISON)
    assert client_for(liaison).get(url).status_code == 200
    assert client_for(liaison).post(url, data).status_code == 403


def test_import_page_uploads_and_the_run_page_shows_progress_and_counts(
    client_for, risk_manager, customs_list, django_capture_on_commit_callbacks
):
    client = client_for(risk_manager)
    upload = SimpleUploadedFile("lookouts.csv", CSV, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("watchlists:import", args=[customs_list.pk]), {"format": "csv", "files": [upload]}
        )
    run = ImportRun.objects.filter(watchlist=customs_list).get()
    assert response.status_code == 302 and response.url == reverse("watchlists:import_run", args=[run.pk])
    assert run.status == "done" and run.counts["added"] == 2 and run.counts["deactivated"] == 0
    page = client.get(response.url).content.decode()
    assert 'aria-valuenow="100"' in page and "Added" in page and "hx-trigger" not in page
    fragment = client.get(response.url, HTTP_HX_REQUEST="true").content.decode()
    assert fragment.lstrip().startswith('<section class="card" id="run-progress"')


def test_running_import_page_polls(client_for, risk_manager, customs_list):
    run = ImportRun.objects.create(
        watchlist=customs_list,
        format="un",
        files=["un.xml"],
        status="running",
        progress_done=250,
        progress_total=1000,
    )
    page = client_for(risk_manager).get(reverse("watchlists:import_run", args=[run.pk])).content.decode()
    assert 'aria-valuenow="25"' in page and 'hx-trigger="every 1s"' in page


def test_whole_list_upload_deactivates_missing_entries(
    client_for, risk_manager, customs_list, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("lookouts.csv", CSV, content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client_for(risk_manager).post(
            reverse("watchlists:import", args=[customs_list.pk]),
            {"format": "csv", "files": [upload], "deactivate_missing": "on"},
        )
    assert ImportRun.objects.filter(watchlist=customs_list).get().counts["deactivated"] == 3


def test_ofac_upload_needs_its_three_files(client_for, risk_manager, customs_list):
    upload = SimpleUploadedFile("sdn.csv", b"1,x", content_type="text/csv")
    response = client_for(risk_manager).post(
        reverse("watchlists:import", args=[customs_list.pk]), {"format": "ofac", "files": [upload]}
    )
    assert (
        response.status_code == 400 and "OFAC needs sdn.csv, alt.csv and add.csv" in response.content.decode()
    )


def test_analyst_cannot_import_and_outsider_gets_404(client_for, customs_analyst, outsider, customs_list):
    url = reverse("watchlists:import", args=[customs_list.pk])
    upload = SimpleUploadedFile("lookouts.csv", CSV, content_type="text/csv")
    assert client_for(customs_analyst).post(url, {"format": "csv", "files": [upload]}).status_code == 403
    assert "Only risk managers" in client_for(customs_analyst).get(url).content.decode()
    for name in ("watchlists:detail", "watchlists:import"):
        assert client_for(outsider).get(reverse(name, args=[customs_list.pk])).status_code == 404


def test_port_officers_do_not_use_watchlists(client_for, port_officer):
    assert client_for(port_officer).get(reverse("watchlists:list")).status_code == 403


def test_screen_tool_shows_matches_with_reasons_from_visible_lists_only(
    client_for, customs_analyst, customs_list, police_list
):
    client = client_for(customs_analyst)
    page = client.get(
        reverse("watchlists:screen"),
        {"name": "Viktor Boutov", "date_of_birth": "1967-01-13", "nationality": "RU"},
    ).content.decode()
    assert "Viktor Anatolyevich BOUTOV" in page and "date of birth matches" in page
    assert "nationality matches (RU)" in page and "Examine, then notify" in page
    hidden = client.get(reverse("watchlists:screen"), {"name": "Dmitri Karamazov"}).content.decode()
    assert "Karamazov" not in hidden.replace('value="Dmitri Karamazov"', "") and "No entry" in hidden


def test_a_failed_import_names_the_uploaded_file_not_a_server_path(
    client_for, risk_manager, customs_list, django_capture_on_commit_callbacks, settings
):
    """The run page and the API show why an import failed, by the name the uploader gave the file."""
    client = client_for(risk_manager)
    bad = SimpleUploadedFile("lookouts.csv", b"id,name\n1,\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("watchlists:import", args=[customs_list.pk]), {"format": "csv", "files": [bad]}
        )
    run = ImportRun.objects.filter(watchlist=customs_list).get()
    assert run.status == "failed" and run.error.startswith("lookouts.csv, line 2, field 'name'")
    page = client.get(response.url).content.decode()
    api = client.get(reverse("watchlistimport-detail", args=[run.pk])).content.decode()
    for shown in (run.error, page, api):
        assert str(settings.MEDIA_ROOT) not in shown and "watchlist-spool" not in shown
    assert "lookouts.csv, line 2" in page


def test_an_unreadable_import_names_the_file_without_its_path(risk_manager, customs_list, settings):
    from apps.watchlists import services

    run = services.start_import(actor=risk_manager, watchlist=customs_list, fmt="un", files=["un.xml"])
    spooled = f"{settings.MEDIA_ROOT}/watchlist-spool/{run.pk}/0a1b2c3d__un.xml"
    run = services.run_import(run, spooled)  # never written: the file is missing
    assert run.status == "failed" and "un.xml" in run.error
    assert "/" not in run.error and "0a1b2c3d" not in run.error
