"""API routes of this app, included under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.watchlists import api

router = SimpleRouter()
router.register("watchlists", api.WatchlistViewSet, basename="watchlist")
router.register("watchlist-entries", api.EntryViewSet, basename="watchlistentry")
router.register("watchlist-imports", api.ImportRunViewSet, basename="watchlistimport")
router.register("screen", api.ScreenViewSet, basename="screen")
router.register("watchlist-hits", api.WatchlistHitViewSet, basename="watchlisthit")

urlpatterns = router.urls
