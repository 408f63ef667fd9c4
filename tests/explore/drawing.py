"""The map drawn from a tally, as the map's answers write it, read back."""

import orjson

from atlas import explore


def named(tally, partnerships, urls):
    """The map's data from ``tally`` (``explore._map_data``), its lines of one partnership
    named among ``partnerships``, as ``explore.map_drawing`` writes them."""
    written = explore._written(explore._map_data(tally, urls))
    return orjson.loads(explore._named(written, partnerships, urls)["geojson"])
