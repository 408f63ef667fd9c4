import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def fresh_throttle():
    # The anonymous rate counts in the cache; every test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()
