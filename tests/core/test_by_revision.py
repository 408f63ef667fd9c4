"""What each worker keeps of single records under their revisions (``core.cache.by_revision``):
read once per key while public pages are served, bounded, and read each time otherwise."""

import pytest

from core import cache, versioning


@pytest.fixture
def public_page():
    """As while a public page is served: the request's versions are known."""
    token = versioning.request_part_versions.set({})
    yield
    versioning.request_part_versions.reset(token)


@pytest.fixture
def reads():
    return []


@pytest.fixture
def read(reads):
    def read(ids):
        reads.append(sorted(ids))
        return {pk: f"record {pk}" for pk in ids}

    return read


def test_each_record_is_read_once_per_key(public_page, reads, read):
    assert cache.by_revision("records", {1: "a", 2: "a"}, read) == {
        1: "record 1",
        2: "record 2",
    }
    assert cache.by_revision("records", {1: "a", 2: "b"}, read) == {
        1: "record 1",
        2: "record 2",
    }
    assert cache.by_revision("other records", {1: "a"}, read) == {1: "record 1"}
    assert reads == [[1, 2], [2], [1]]


def test_past_the_bound_what_was_kept_is_dropped_together(public_page, reads, read, monkeypatch):
    monkeypatch.setattr(cache, "BY_REVISION_KEPT", 2)
    cache.by_revision("records", {1: "a", 2: "a"}, read)
    cache.by_revision("records", {3: "a"}, read)  # 3 kept: 1 and 2 are dropped
    cache.by_revision("records", {1: "a", 3: "a"}, read)
    assert reads == [[1, 2], [3], [1]]
    assert len(cache._BY_REVISION["records"]) <= 2
    # A read larger than the bound is kept not even in part.
    cache.by_revision("records", {4: "a", 5: "a", 6: "a"}, read)
    assert cache._BY_REVISION["records"] == {}


def test_outside_a_public_page_everything_is_read_each_time(reads, read):
    assert versioning.request_part_versions.get() is None
    cache.by_revision("records", {1: "a"}, read)
    cache.by_revision("records", {1: "a"}, read)
    assert reads == [[1], [1]]
    assert "records" not in cache._BY_REVISION


def test_a_record_the_read_does_not_find_is_left_out(public_page, reads):
    found = cache.by_revision("records", {1: "a", 2: "a"}, lambda ids: {1: "record 1"})
    assert found == {1: "record 1"}
