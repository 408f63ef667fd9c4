"""importing.names.Names.reference: the text an export writes, kept until names change."""

from importing.names import Names


def test_a_reference_follows_a_name_added_or_forgotten_after_it_was_asked_for():
    names = Names("place")
    names.add(1, "Ringsted", slug="ringsted")
    assert names.reference(1) == "Ringsted"
    # Ringsted, Iowa: the name no longer tells them apart, so the export writes slugs.
    names.add(2, "Ringsted", slug="ringsted-iowa")
    assert names.reference(1) == "ringsted"
    assert names.reference(2) == "ringsted-iowa"
    names.discard(2)
    assert names.reference(1) == "Ringsted"
