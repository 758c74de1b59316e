"""The security crawl's world, built once per module inside a transaction that is rolled back at the end
(each test runs in a savepoint of it, so a request that changes something cannot leak into the next)."""

from __future__ import annotations

import logging
import time
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import transaction

from tests.security.crawl import Crawler, Visibility, all_routes, probe_route_models
from tests.security.seed import World, build_world


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory) -> World:
    from django.conf import settings
    from django.test import override_settings

    media = tmp_path_factory.mktemp("security-media")
    with (
        django_db_blocker.unblock(),
        override_settings(
            MEDIA_ROOT=str(media),
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            STORAGES={
                **settings.STORAGES,
                "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            },
        ),
        transaction.atomic(),
    ):
        world = build_world()
        yield world
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def crawl(seeded):
    """Routes, who sees what, and which kind of object each route takes (probed once per module)."""
    started = time.monotonic()
    logging.getLogger("django.request").setLevel(logging.ERROR)  # thousands of expected 404s
    crawler = Crawler(seeded)
    for username in seeded.users:  # signed in before the probe, whose savepoint is rolled back
        crawler.client(username)
    visibility = Visibility.of(seeded)
    routes = all_routes()
    takes = probe_route_models(crawler, visibility, routes)
    for route in routes:  # the admin's routes name their model
        if route.is_admin and route.name.endswith("_change") and route.params[:1] == (("object_id", "path"),):
            model = _admin_model(route.name)
            if model in visibility.models:
                takes[route.name] = [model]
    context = SimpleNamespace(crawler=crawler, visibility=visibility, routes=routes, takes=takes)
    print(f"\ncrawl set-up: {len(routes)} routes, {len(takes)} take ids, {time.monotonic() - started:.1f}s")
    return context


def _admin_model(name: str) -> type | None:
    # admin:<app_label>_<model_name>_<view>
    label = name.removeprefix("admin:").rsplit("_", 1)[0]
    for model in apps.get_models():
        if f"{model._meta.app_label}_{model._meta.model_name}" == label:
            return model
    return None
