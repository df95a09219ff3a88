"""Shared fixtures: a small area tree, people with roles, and clients signed in at a level."""

import pytest
from django.core.cache import cache

from tests.factories import build_area_tree


@pytest.fixture(autouse=True)
def _clear_cache():
    # Rate-limit guards live in the cache; each test starts clean.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded files of a test live and die with the test.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def tree(db):
    """District 110111 → streets GC (拱辰) and XL (西潞) → communities YLJ (under GC) and SZ
    (under XL), each with contacts."""
    return build_area_tree()
