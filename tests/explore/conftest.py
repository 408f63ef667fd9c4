import pytest

from atlas import explore


@pytest.fixture
def kept_layouts(settings):
    """The page cache on, so that values are kept per version (the map's layout among
    them), and no layout kept from another test."""
    settings.ATLAS_CACHE_PAGES = True
    explore._layouts.clear()
    yield
    explore._layouts.clear()
