"""The gzip middleware compresses through zlib-ng as Django's does through zlib."""

import gzip
import os
import pickle

from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.test import RequestFactory

from core import middleware
from core.cache import FileBasedCache
from core.middleware import GZipMiddleware, gzipped
from core.rest import Written

# A list page's worth of cards: compressing text this varied, zlib-ng comes within a few
# percent of zlib (on a few bytes repeated it can write a third more).
PAGE = "".join(
    f'<li><a href="/en/places/place-{n}/">Place {n}, {("Jiangsu", "Ringsted", "Iowa")[n % 3]}'
    f"</a> {n * 37 % 1000} partnerships since {1980 + n % 45}</li>"
    for n in range(800)
).encode()


def payload(body):
    """The compressed data and trailer of a gzip ``body``, without its header and its
    padding (a file name of up to 99 bytes, drawn anew each time)."""
    return body[body.index(b"\x00", 10) + 1 :] if body[3] & gzip.FNAME else body[10:]


def respond(content, accept="gzip, deflate, br", middleware=GZipMiddleware, **headers):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    return middleware(lambda request: HttpResponse(content, headers=headers))(request)


def test_a_page_reads_back_the_same_and_as_small_as_djangos():
    ours, djangos = respond(PAGE), respond(PAGE, middleware=DjangoGZipMiddleware)
    assert ours["Content-Encoding"] == "gzip" and "Accept-Encoding" in ours["Vary"]
    assert gzip.decompress(ours.content) == PAGE
    assert int(ours["Content-Length"]) == len(ours.content)
    assert len(payload(ours.content)) <= len(payload(djangos.content)) * 1.05


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


def stream(middleware=GZipMiddleware, accept="gzip"):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)
    answer = StreamingHttpResponse(iter([PAGE, PAGE]), headers={"Content-Length": "1"})
    return middleware(lambda request: answer)(request)


def test_a_stream_is_compressed_as_it_is_sent_as_djangos_is():
    ours, djangos = stream(), stream(DjangoGZipMiddleware)
    assert ours["Content-Encoding"] == "gzip" and "Accept-Encoding" in ours["Vary"]
    assert not ours.has_header("Content-Length")  # not known until it is all sent
    body = b"".join(ours.streaming_content)
    assert gzip.decompress(body) == PAGE * 2
    theirs = b"".join(djangos.streaming_content)
    assert len(payload(body)) <= len(payload(theirs)) * 1.05
    names = set()
    for _ in range(20):
        body = b"".join(stream().streaming_content)
        if body[3] & gzip.FNAME:  # no name at all when the padding drew none
            names.add(body[10 : body.index(b"\x00", 10)])
    assert len(names) > 1 and all(set(name) <= {ord("a")} for name in names)
    assert not stream(accept="br").has_header("Content-Encoding")


def kept_respond(content, kept, accept="gzip"):
    request = RequestFactory().get("/", HTTP_ACCEPT_ENCODING=accept)

    def view(request):
        response = HttpResponse(content)
        response.gzipped = kept
        return response

    return GZipMiddleware(view)(request)


def test_a_body_kept_gzipped_is_sent_so_padded_anew(monkeypatch):
    kept = (PAGE, gzipped(PAGE))

    def refused(*args, **kwargs):
        raise AssertionError("compressed again")

    monkeypatch.setattr(middleware.gzip_ng, "compress", refused)
    lengths = set()
    for _ in range(20):
        answer = kept_respond(PAGE, kept)
        assert answer["Content-Encoding"] == "gzip" and "Accept-Encoding" in answer["Vary"]
        assert gzip.decompress(answer.content) == PAGE
        assert int(answer["Content-Length"]) == len(answer.content)
        assert payload(answer.content) == payload(kept[1])
        lengths.add(len(answer.content))
    assert len(lengths) > 1  # padded anew for each answer
    assert kept_respond(PAGE, kept, accept="br").content == PAGE


def test_a_body_other_than_the_one_kept_is_compressed_itself():
    other = PAGE.replace(b"Jiangsu", b"Anhui")
    answer = kept_respond(other, (PAGE, gzipped(PAGE)))
    assert gzip.decompress(answer.content) == other


def test_a_written_body_is_kept_by_a_cache_as_its_gzipped_form(tmp_path):
    kept = Written(PAGE, gzipped(PAGE))
    cache = FileBasedCache(str(tmp_path), {})
    stored = cache._dumps(kept)
    assert len(stored) < len(kept.gzipped) + 100 < len(PAGE) / 4
    read = cache._loads(stored)
    assert (read.content, read.gzipped) == (PAGE, kept.gzipped)
    plain = pickle.loads(pickle.dumps(Written(PAGE)))
    assert (plain.content, plain.gzipped) == (PAGE, None)
