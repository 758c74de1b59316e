"""The cross-agency check every view and endpoint must pass: an outsider gets 404, never a hint.

Each parameterised route is listed, either with a maker that creates an object owned by customs (not
shared with the outsider's agency) and returns the route's kwargs, or as a reference-data route that
every member may see. Each app keeps its list in ``tests/<app>/isolation.py`` (``SCOPED_ROUTES`` and
``REFERENCE_ROUTES``); they are gathered here. ``test_isolation`` fails when a route is in no list, so a
new page cannot ship without its isolation test.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

Maker = Callable[[Any], dict[str, Any]]
#: For routes only system accounts use (``ACCOUNT_ROUTES``): the route's kwargs, the account that owns the
#: object, and a system account of another agency.
AccountMaker = Callable[[Any], tuple[dict[str, Any], Any, Any]]

SCOPED_ROUTES: dict[str, Maker] = {}
REFERENCE_ROUTES: set[str] = set()
ACCOUNT_ROUTES: dict[str, AccountMaker] = {}

for _module_file in sorted(Path(__file__).parent.glob("*/isolation.py")):
    _module = importlib.import_module(f"tests.{_module_file.parent.name}.isolation")
    SCOPED_ROUTES.update(getattr(_module, "SCOPED_ROUTES", {}))
    REFERENCE_ROUTES.update(getattr(_module, "REFERENCE_ROUTES", set()))
    ACCOUNT_ROUTES.update(getattr(_module, "ACCOUNT_ROUTES", {}))

IGNORED_NAMESPACES = {"admin"}


def parameterised_route_names() -> Iterator[str]:
    """Names (with namespaces) of every route that takes a parameter, outside the admin."""

    def walk(patterns, namespace: str, has_params: bool):
        for p in patterns:
            params = has_params or "<" in str(p.pattern) or "(?P<" in str(p.pattern)
            if isinstance(p, URLResolver):
                ns = p.namespace
                if ns in IGNORED_NAMESPACES:
                    continue
                yield from walk(p.url_patterns, f"{namespace}{ns}:" if ns else namespace, params)
            elif isinstance(p, URLPattern) and p.name and params:
                groups = p.pattern.regex.groupindex
                # DRF's format-suffix routes repeat a name with only ``format`` as parameter.
                if "format" in groups and len(groups) == 1:
                    continue
                yield namespace + p.name

    yield from sorted(set(walk(get_resolver().url_patterns, "", False)))
