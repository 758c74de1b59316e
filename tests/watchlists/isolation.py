"""Watchlist routes for the cross-agency test: each maker builds a customs list not shared with BIO."""

from tests.watchlists.helpers import make_entry, make_list, make_run

SCOPED_ROUTES = {
    "watchlists:detail": lambda w: {"pk": make_list(w.customs).pk},
    "watchlists:import": lambda w: {"pk": make_list(w.customs).pk},
    "watchlists:entry": lambda w: {"pk": make_entry(make_list(w.customs), "Ivan Petrov").pk},
    "watchlists:import_run": lambda w: {"pk": make_run(make_list(w.customs)).pk},
    "watchlist-detail": lambda w: {"pk": make_list(w.customs).pk},
    "watchlistentry-detail": lambda w: {"pk": make_entry(make_list(w.customs), "Ivan Petrov").pk},
    "watchlistimport-detail": lambda w: {"pk": make_run(make_list(w.customs)).pk},
}
