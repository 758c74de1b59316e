"""Watchlist API: scoped reads, entry writes through the services, imports with progress, screening."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from apps.watchlists.models import WatchlistEntry

pytestmark = pytest.mark.django_db


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_lists_and_entries_are_scoped(customs_analyst, police_liaison, customs_list, police_list):
    names = [w["name"] for w in api_for(customs_analyst).get(reverse("watchlist-list")).json()["results"]]
    assert names == ["Customs lookouts"]
    detail = api_for(customs_analyst).get(reverse("watchlist-detail", args=[customs_list.pk])).json()
    assert detail["live_entries"] == 3 and detail["owner_agency"] == "CUS"
    entries = api_for(police_liaison).get(reverse("watchlistentry-list")).json()["results"]
    assert [e["external_id"] for e in entries] == ["P-1"]
    hidden = customs_list.entries.first()
    assert api_for(police_liaison).get(reverse("watchlistentry-detail", args=[hidden.pk])).status_code == 404
    filtered = api_for(customs_analyst).get(
        reverse("watchlistentry-list"), {"watchlist": customs_list.pk, "q": "ocean"}
    )
    assert [e["kind"] for e in filtered.json()["results"]] == ["vessel"]


def test_entries_are_created_and_updated_through_the_services(
    risk_manager, customs_analyst, police_liaison, customs_list
):
    body = {
        "watchlist": customs_list.pk,
        "id": "C-9",
        "name": "Hans Gruber",
        "aliases": ["Hans Grueber"],
        "dates_of_birth": ["1955-03-12"],
        "nationalities": ["Germany"],
        "documents": [{"type": "passport", "number": "C01X00T47", "country": "DE"}],
        "handling_code": "hold",
    }
    assert (
        api_for(customs_analyst).post(reverse("watchlistentry-list"), body, format="json").status_code == 403
    )
    assert (
        api_for(police_liaison).post(reverse("watchlistentry-list"), body, format="json").status_code == 404
    )
    created = api_for(risk_manager).post(reverse("watchlistentry-list"), body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (
        data["nationalities"] == ["DE"]
        and data["handling"] == "hold"
        and data["dates_of_birth"][0]["day"] == 12
    )
    again = api_for(risk_manager).post(reverse("watchlistentry-list"), body, format="json")
    assert again.status_code == 400 and "already exists" in again.content.decode()
    url = reverse("watchlistentry-detail", args=[data["id"]])
    patched = api_for(risk_manager).patch(
        url, {"expires_on": "2031-12-31", "handling_code": ""}, format="json"
    )
    assert patched.status_code == 200 and patched.json()["expires_on"] == "2031-12-31"
    assert patched.json()["handling"] == "examine"  # back to the list's default
    bad = api_for(risk_manager).patch(url, {"handling_code": "shoot"}, format="json")
    assert bad.status_code == 400


def test_json_import_runs_and_reports_progress(
    risk_manager, customs_list, django_capture_on_commit_callbacks
):
    entries = [
        {"id": "C-1", "name": "Viktor BOUT"},  # an update of an existing entry
        {"id": "N-1", "name": "Ana Lima", "dates_of_birth": ["1988-07-01"]},
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(risk_manager).post(
            reverse("watchlistimport-list"), {"watchlist": customs_list.pk, "entries": entries}, format="json"
        )
    assert response.status_code == 202
    run = api_for(risk_manager).get(reverse("watchlistimport-detail", args=[response.json()["id"]])).json()
    assert run["status"] == "done" and run["percent"] == 100
    assert run["counts"]["added"] == 1 and run["counts"]["updated"] == 1 and run["counts"]["deactivated"] == 0
    assert WatchlistEntry.objects.filter(watchlist=customs_list).count() == 4


def test_file_import_through_the_api_and_a_bad_entry(
    risk_manager, customs_list, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("x.csv", b"id,name\n7,Karl Ranke\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_for(risk_manager).post(
            reverse("watchlistimport-list"),
            {"watchlist": customs_list.pk, "format": "csv", "files": [upload], "deactivate_missing": True},
            format="multipart",
        )
    assert response.status_code == 202
    run = api_for(risk_manager).get(reverse("watchlistimport-detail", args=[response.json()["id"]])).json()
    assert run["counts"]["added"] == 1 and run["counts"]["deactivated"] == 3
    with django_capture_on_commit_callbacks(execute=True):
        bad = api_for(risk_manager).post(
            reverse("watchlistimport-list"),
            {"watchlist": customs_list.pk, "entries": [{"id": "1"}]},
            format="json",
        )
    failed = api_for(risk_manager).get(reverse("watchlistimport-detail", args=[bad.json()["id"]])).json()
    assert failed["status"] == "failed" and "name" in failed["error"]


def test_screen_endpoint_matches_with_reasons_only_against_visible_lists(
    customs_analyst, police_liaison, outsider, customs_list, police_list
):
    body = {"name": "Dmitri Karamazov", "dob": "1975-05-05", "nationality": "RU"}
    assert api_for(customs_analyst).post(reverse("screen-list"), body, format="json").json()["matches"] == []
    assert api_for(outsider).post(reverse("screen-list"), body, format="json").json()["matches"] == []
    matches = api_for(police_liaison).post(reverse("screen-list"), body, format="json").json()["matches"]
    assert matches[0]["external_id"] == "P-1" and matches[0]["owner_agency"] == "POL"
    assert (
        "date of birth matches" in matches[0]["reasons"]
        and "nationality matches (RU)" in matches[0]["reasons"]
    )
    assert api_for(customs_analyst).post(reverse("screen-list"), {}, format="json").status_code == 400


def test_port_officer_may_not_screen(port_officer, customs_list):
    assert api_for(port_officer).post(reverse("screen-list"), {"name": "x"}, format="json").status_code == 403
