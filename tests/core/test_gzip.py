"""The gzip middleware compresses through zlib-ng as Django's does through zlib."""

import gzip
import os

from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.test import RequestFactory

from core.middleware import GZipMiddleware

PAGE = ("<li>Suzhou, Jiangsu</li><li>Ringsted, Iowa</li>" * 400).encode()


def respond(content, accept="gzip, deflate, br", middleware=GZipMiddleware, **headers):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return middleware(lambda request: HttpResponse(content, headers=headers))(request)


def test_a_page_reads_back_the_same_and_as_small_as_djangos():
    ours, djangos = respond(PAGE), respond(PAGE, middleware=DjangoGZipMiddleware)
    assert ours["Content-Encoding"] == "gzip" and "Accept-Encoding" in ours["Vary"]
    assert gzip.decompress(ours.content) == PAGE
    assert int(ours["Content-Length"]) == len(ours.content)
    # The padding against BREACH differs by up to 99 bytes each time.
    assert len(ours.content) <= len(djangos.content) * 1.05 + 100


def test_it_pads_the_header_against_breach_as_djangos_does():
    lengths = set()
    for _ in range(20):
        body = respond(PAGE).content
        assert body[3] & gzip.FNAME  # a file name follows the ten bytes of the header
        name = body[10 : body.index(b"\x00", 10)]
        assert set(name) <= {ord("a")} and len(name) < GZipMiddleware.max_random_bytes
        lengths.add(len(body))
    assert len(lengths) > 1


def test_what_it_leaves_as_it_is():
    assert respond(PAGE, accept="deflate, br").content == PAGE
    assert respond(PAGE[:150]).content == PAGE[:150]  # too short to be worth it
    already = respond(PAGE, **{"Content-Encoding": "br"})
    assert already.content == PAGE and already["Content-Encoding"] == "br"
    noise = os.urandom(1000)  # no shorter compressed
    assert respond(noise).content == noise
    assert not respond(noise).has_header("Content-Encoding")


def test_a_strong_etag_becomes_weak():
    assert respond(PAGE, ETag='"v1"')["ETag"] == 'W/"v1"'
    assert respond(PAGE, ETag='W/"v1"')["ETag"] == 'W/"v1"'


def test_a_streaming_response_is_left_to_djangos():
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING="gzip")
    response = GZipMiddleware(lambda request: StreamingHttpResponse(iter([PAGE, PAGE])))(request)
    assert response["Content-Encoding"] == "gzip"
    assert gzip.decompress(b"".join(response.streaming_content)) == PAGE * 2
