"""Shared fixtures: the real watchlist files and one index built from them (per test session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from apps.watchlists.importers import WatchlistEntry, load_ofac_sdn, load_un_consolidated
from apps.watchlists.matching import ScreeningIndex

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "watchlists"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA / "un_consolidated.xml").is_file() or not (DATA / "ofac_sdn" / "sdn.csv").is_file():
        pytest.fail(f"watchlist test data missing: expected UN XML and OFAC CSVs under {DATA}")
    return DATA


@pytest.fixture(scope="session")
def un_entries(data_dir: Path) -> list[WatchlistEntry]:
    return list(load_un_consolidated(data_dir / "un_consolidated.xml"))


@pytest.fixture(scope="session")
def ofac_entries(data_dir: Path) -> list[WatchlistEntry]:
    return list(load_ofac_sdn(data_dir / "ofac_sdn"))


@pytest.fixture(scope="session")
def index(un_entries: list[WatchlistEntry], ofac_entries: list[WatchlistEntry]) -> ScreeningIndex:
    return ScreeningIndex.build(un_entries + ofac_entries)


# --- database fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fresh_screening_cache():
    """Each test starts with no cached index (rolled-back rows may reuse primary keys on SQLite)."""
    from apps.watchlists.screening import clear_cache

    clear_cache()
    yield
    clear_cache()


@pytest.fixture(scope="module")
def stored_lists(django_db_setup, django_db_blocker, data_dir: Path):
    """UN and OFAC imported once per module into lists of a 'SANC' agency, lists removed at its end.

    Committed outside the tests' transactions (the full imports take seconds); tests must not change
    these lists: tests that re-import or edit make their own. Per module, not per session: the engine
    screens every active list, so a later file on the same worker would otherwise find these lists'
    real entries (Viktor Bout is on both) beside its own and count two hits where it made one.
    """
    from types import SimpleNamespace

    from apps.agencies.models import Agency, AgencyKind
    from apps.watchlists.models import Watchlist
    from apps.watchlists.services import create_watchlist, import_path

    with django_db_blocker.unblock():
        agency, _ = Agency.objects.get_or_create(
            code="SANC", defaults={"name": "Sanctions desk", "kind": AgencyKind.CUSTOMS}
        )
        Watchlist.objects.filter(name__in=["UN consolidated (session)", "OFAC SDN (session)"]).delete()
        un = create_watchlist(actor=None, owner_agency=agency, name="UN consolidated (session)", weight=95)
        ofac = create_watchlist(actor=None, owner_agency=agency, name="OFAC SDN (session)", weight=90)
        un_run = import_path(actor=None, watchlist=un, fmt="un", path=data_dir / "un_consolidated.xml")
        ofac_run = import_path(actor=None, watchlist=ofac, fmt="ofac", path=data_dir / "ofac_sdn")
        yield SimpleNamespace(agency=agency, un=un, ofac=ofac, un_run=un_run, ofac_run=ofac_run)
        # The agency stays (the test database goes at the end of the session anyway).
        Watchlist.objects.filter(pk__in=[un.pk, ofac.pk]).delete()


@pytest.fixture
def customs_list(world):
    """A customs lookout list with two persons and a vessel, not shared with anyone."""
    from tests.watchlists.helpers import make_entry, make_list

    wl = make_list(world.customs, "Customs lookouts", default_handling="examine")
    make_entry(
        wl,
        "Viktor Anatolyevich BOUTOV",
        id="C-1",
        aliases=["Viktor Bout", {"name": "Boris", "quality": "weak"}],
        dates_of_birth=["1967-01-13"],
        nationalities=["RU"],
        documents=[{"type": "passport", "number": "21N0588029", "country": "RU"}],
    )
    make_entry(wl, "Maria Gonzalez Ruiz", id="C-2", dates_of_birth=["1980"], nationalities=["ES"])
    make_entry(wl, "Ocean Voyager", id="C-3", kind="vessel", imo=["9123453"])
    return wl


@pytest.fixture
def police_list(world):
    """A police lookout list (POL), not shared with customs."""
    from tests.watchlists.helpers import make_entry, make_list

    wl = make_list(world.police, "Police lookouts", default_handling="discreet", risk_area="narcotics")
    make_entry(wl, "Dmitri Karamazov", id="P-1", dates_of_birth=["1975-05-05"], nationalities=["RU"])
    return wl
