"""Record cards, written in Python (``core.cards``): what staff write is escaped, text in
the other language is marked, and a record's card is the same on every page that lists it."""

import re

import pytest
from django.utils import translation

from organisations.models import Organisation
from partnerships import models
from partnerships.models import Participant, Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    ThemeFactory,
)
from tests.pages import url

pytestmark = pytest.mark.django_db


def cards(page):
    return re.findall(r'<li class="card">.*?</li>', page, flags=re.DOTALL)


def card_of(page, href):
    (card,) = [card for card in cards(page) if f'<h3><a href="{href}">' in card]
    return card


@pytest.fixture
def markup():
    """Records whose every text a card shows holds markup, and a theme only in Danish."""
    province = PlaceFactory(name="Jiang<su>", kind=Place.Kind.PROVINCE, country="CN")
    city = PlaceFactory(
        name='Wu "xi" & co',
        native_name="<i>无锡</i>",
        native_language="zh",
        parent=province,
        country="CN",
    )
    PlaceFigureFactory(place=city, value=6_400_000, year=2010)
    university = OrganisationFactory(
        name="Aarhus <b>University</b>", short_name="<AU>", place=None, country="DK"
    )
    tie = PartnershipFactory(title="Tie <script>x</script>", parties=[university, city])
    tie.themes.add(ThemeFactory(name_en="", name_da="Uddannelse & <forskning>"))
    return {"province": province, "city": city, "university": university, "tie": tie}


def test_cards_escape_what_staff_write(client, markup):
    partnership = card_of(
        client.get(url("partnerships:partnership-list")).content.decode(),
        markup["tie"].get_absolute_url(),
    )
    assert "Tie &lt;script&gt;x&lt;/script&gt;</a>" in partnership
    assert (
        '<span class="party">Aarhus &lt;b&gt;University&lt;/b&gt; '
        '<span class="country">(Denmark)</span></span>'
    ) in partnership
    assert '<span class="party">Wu &quot;xi&quot; &amp; co <span class="country">(China)' in (
        partnership
    )
    assert (
        '<span class="tag"><span lang="da">Uddannelse &amp; &lt;forskning&gt;</span> '
        '<small class="lang-note">only in Danish</small></span>'
    ) in partnership

    place = card_of(
        client.get(url("places:place-list")).content.decode(), markup["city"].get_absolute_url()
    )
    assert 'Wu &quot;xi&quot; &amp; co</a> <span class="native" lang="zh">&lt;i&gt;' in place
    assert "City in Jiang&lt;su&gt;, China" in place
    assert "6.4\N{NO-BREAK SPACE}million inhabitants (2010)" in place

    organisation = card_of(
        client.get(url("organisations:organisation-list")).content.decode(),
        markup["university"].get_absolute_url(),
    )
    assert (
        'Aarhus &lt;b&gt;University&lt;/b&gt;</a> <span class="native">(&lt;AU&gt;)</span>'
    ) in organisation
    assert "University, Denmark" in organisation
    for page in [partnership, place, organisation]:
        assert "<script>" not in page and "<b>" not in page and "<i>" not in page


def test_a_status_the_choices_do_not_know_is_escaped(client, markup):
    """Raw SQL or a bulk update can store any status; its card writes it as text, in the
    class name too, and the list still answers."""
    models.Partnership.objects.filter(pk=markup["tie"].pk).update(status='"><b>x</b>')
    response = client.get(url("partnerships:partnership-list"))
    assert response.status_code == 200
    card = card_of(response.content.decode(), markup["tie"].get_absolute_url())
    assert '<span class="status status-&quot;&gt;&lt;b&gt;x&lt;/b&gt;">' in card
    assert "<b>" not in card


def test_a_card_in_danish_marks_the_english_text_it_shows(client, markup):
    page = client.get(url("places:place-list", language="da")).content.decode()
    with translation.override("da"):
        place = card_of(page, markup["city"].get_absolute_url())
    # The names have no Danish: shown in English, marked as such.
    assert '<span lang="en">Wu &quot;xi&quot; &amp; co</span> <small class="lang-note">' in place
    assert 'By i <span lang="en">Jiang&lt;su&gt;</span> <small class="lang-note">' in place
    assert "6,4\N{NO-BREAK SPACE}mio. indbyggere (2010)" in place


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_record_has_one_card_wherever_it_is_listed(client, markup, language):
    """The list, the search and the place pages draw each record's card alike."""
    city, university, tie = markup["city"], markup["university"], markup["tie"]
    with_language = {"language": language}
    lists = {
        city: url("places:place-list", **with_language),
        university: url("organisations:organisation-list", **with_language),
        tie: url("partnerships:partnership-list", **with_language),
    }
    elsewhere = {
        city: [
            url("search", query="q=wu", **with_language),
            url("places:place-detail", slug=markup["province"].slug, **with_language),
        ],
        university: [url("search", query="q=aarhus", **with_language)],
        tie: [
            url("search", query="q=tie", **with_language),
            url("places:place-detail", slug=city.slug, **with_language),
            url("organisations:organisation-detail", slug=university.slug, **with_language),
        ],
    }
    for record, listed in lists.items():
        with translation.override(language):
            href = record.get_absolute_url()
        card = card_of(client.get(listed).content.decode(), href)
        for address in elsewhere[record]:
            assert card_of(client.get(address).content.decode(), href) == card, address


@pytest.fixture
def tied():
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    suzhou = PlaceFactory(name="Suzhou", name_da="Suzhou (da)", parent=jiangsu, slug="suzhou")
    other = PlaceFactory(name="Suzhou", country="CN")
    draft = PlaceFactory(name="Kunshan", publication="draft")
    university = OrganisationFactory(
        name="Soochow University", place=suzhou, country="CN", slug="soochow"
    )
    unplaced = OrganisationFactory(name="Danish Business Council", place=None, country="DK")
    return [
        PartnershipFactory(parties=[suzhou, university], slug="first"),
        PartnershipFactory(parties=[other, unplaced, draft]),
        PartnershipFactory(parties=[unplaced, suzhou]),
    ]


def read_for_cards(partnerships):
    partnerships = list(Partnership.objects.filter(pk__in=[p.pk for p in partnerships]))
    models.attach_card_parts(partnerships)
    return {
        partnership.pk: [
            (
                shown.place_id,
                shown.organisation_id,
                shown.organisation_place_id,
                *(getattr(shown.party, name) for name in models.SHOWN_PARTY),
            )
            for shown in partnership.participants_shown
        ]
        for partnership in partnerships
    }


@pytest.mark.parametrize("kept", [False, True], ids=["read", "kept"])
def test_the_cards_read_what_a_join_of_the_participants_reads(settings, tied, kept):
    # Each party is read by its key, and kept per version of the places and organisations
    # (``_card_parties``): the rows must be those of the join, in the models' order.
    settings.ATLAS_CACHE_PAGES = kept
    joined = {}
    for partnership_id, *row in (
        Participant.objects.filter(partnership__in=tied)
        .order_by(*Participant._meta.ordering)
        .values_list(
            "partnership_id",
            "place_id",
            "organisation_id",
            "organisation__place_id",
            *(f"place__{name}" for name in models.SHOWN_PARTY),
            *(f"organisation__{name}" for name in models.SHOWN_PARTY),
        )
    ):
        place_id, organisation_id, based_in = row[:3]
        shown = len(models.SHOWN_PARTY)
        party = row[3 : 3 + shown] if place_id else row[3 + shown :]
        joined.setdefault(partnership_id, []).append((place_id, organisation_id, based_in, *party))
    assert sum(len(rows) for rows in joined.values()) == 7
    for _round in range(2):  # the second from what was kept
        assert read_for_cards(tied) == joined


def test_a_card_names_its_parties_as_they_now_are(client, settings, tied):
    settings.ATLAS_CACHE_PAGES = True
    listed = url("partnerships:partnership-list")

    def first_card():
        return card_of(client.get(listed).content.decode(), "/en/partnerships/first/")

    assert "Suzhou" in first_card() and "Soochow University" in first_card()
    Place.objects.filter(slug="suzhou").update(name_en="Sūzhōu")  # a bulk path, no signal
    assert "Sūzhōu" in first_card()
    Organisation.objects.filter(slug="soochow").update(name_en="Suda")
    card = first_card()
    assert "Sūzhōu" in card and "Suda" in card and "Soochow University" not in card
