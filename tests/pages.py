"""Helpers for tests that read the public pages through the client."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

# What a search term costs besides its own query: the places and the organisations it
# names and those up to PART_DEPTH levels below them, walked in one query
# (partnerships.filters.named_below).
SEARCH_WALK = 1


def url(name, language="en", query="", **kwargs):
    """The address of a public page in ``language``, as a reader would follow it."""
    with translation.override(language):
        path = reverse(name, kwargs=kwargs or None)
    return f"{path}?{query}" if query else path


def sitemap(client):
    """The sitemap's ``<url>`` entries, read as a crawler reads them: the index
    (``/sitemap.xml``) first, then every page of every section it lists, in its order."""
    index = client.get("/sitemap.xml")
    assert index.status_code == 200
    assert "<sitemapindex" in index.content.decode()
    body = []
    for address in re.findall(r"<loc>(.*?)</loc>", index.content.decode()):
        response = client.get(address.removeprefix("http://testserver"))
        assert response.status_code == 200, address
        body.append(response.content.decode())
    return "".join(body)


def queries_for(client, address):
    """How many SQL queries answering ``address`` takes; the page must answer 200."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(address)
    assert response.status_code == 200, address
    return len(context.captured_queries)
