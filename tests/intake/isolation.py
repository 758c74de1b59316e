from tests.factories import DataSourceFactory

SCOPED_ROUTES = {
    "intake:source": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
    "source-detail": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
}
