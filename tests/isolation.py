"""The cross-agency check every view and endpoint must pass: an outsider gets 404, never a hint.

Each parameterised route is listed here, either with a maker that creates an object owned by customs
(not shared with the outsider's agency) and returns the route's kwargs, or as a reference-data route that
every member may see. ``test_isolation`` fails when a route is in neither list, so a new page cannot
ship without its isolation test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import DataSourceFactory

Maker = Callable[[Any], dict[str, Any]]

# Routes over objects owned by an agency: name -> maker(world) -> reverse kwargs.
SCOPED_ROUTES: dict[str, Maker] = {
    "intake:source": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
    "source-detail": lambda w: {"pk": DataSourceFactory(owner_agency=w.customs).pk},
}

# Parameterised routes over reference data that every member may see (ports, agencies).
REFERENCE_ROUTES: set[str] = {"agencies:port", "port-detail", "agency-detail"}

IGNORED_NAMESPACES = {"admin"}


def parameterised_route_names() -> Iterator[str]:
    """Names (with namespaces) of every route that takes a parameter, outside the admin."""

    def walk(patterns, prefix: str, namespace: str, has_params: bool):
        for p in patterns:
            route = prefix + str(p.pattern)
            params = has_params or "<" in str(p.pattern) or "(?P<" in str(p.pattern)
            if isinstance(p, URLResolver):
                ns = p.namespace
                if ns in IGNORED_NAMESPACES:
                    continue
                yield from walk(p.url_patterns, route, f"{namespace}{ns}:" if ns else namespace, params)
            elif isinstance(p, URLPattern) and p.name and params:
                name = namespace + p.name
                # DRF's format-suffix routes repeat a name with only ``format`` as parameter.
                if "format" in p.pattern.regex.groupindex and len(p.pattern.regex.groupindex) == 1:
                    continue
                yield name

    yield from sorted(set(walk(get_resolver().url_patterns, "", "", False)))
