"""Watchlist routes for the cross-agency test: each maker builds a customs list not shared with BIO."""

from tests.watchlists.helpers import make_entry, make_list, make_run


def _hit(world) -> dict:
    """A customs traveller matched against a customs list: neither is shared with BIO."""
    from apps.watchlists.models import WatchlistHit
    from tests.targeting.factories import TravellerFactory

    subject = TravellerFactory(source__owner_agency=world.customs)
    entry = make_entry(make_list(world.customs), "Ivan Petrov")
    return {"pk": WatchlistHit.objects.create(subject=subject, entry=entry, score=0.93).pk}


SCOPED_ROUTES = {
    "watchlists:detail": lambda w: {"pk": make_list(w.customs).pk},
    "watchlists:import": lambda w: {"pk": make_list(w.customs).pk},
    "watchlists:entry": lambda w: {"pk": make_entry(make_list(w.customs), "Ivan Petrov").pk},
    "watchlists:import_run": lambda w: {"pk": make_run(make_list(w.customs)).pk},
    "watchlist-detail": lambda w: {"pk": make_list(w.customs).pk},
    "watchlistentry-detail": lambda w: {"pk": make_entry(make_list(w.customs), "Ivan Petrov").pk},
    "watchlistimport-detail": lambda w: {"pk": make_run(make_list(w.customs)).pk},
    "watchlists:rule_hit": _hit,
    "watchlisthit-detail": _hit,
    "watchlisthit-rule": _hit,
}
