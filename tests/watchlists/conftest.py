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
