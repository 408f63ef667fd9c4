import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from core.dates import DAY, DECADE, MONTH, YEAR, PartialDate


@pytest.mark.parametrize(
    ("text", "canonical", "precision", "circa"),
    [
        ("2007", "2007", YEAR, False),
        ("2011-05", "2011-05", MONTH, False),
        ("2011-5", "2011-05", MONTH, False),
        ("2011-05-03", "2011-05-03", DAY, False),
        ("1980s", "1980s", DECADE, False),
        ("the 1980s", "1980s", DECADE, False),
        ("1980'erne", "1980s", DECADE, False),
        ("1980’erne", "1980s", DECADE, False),
        ("c. 2008", "c. 2008", YEAR, True),
        ("ca. 2008", "c. 2008", YEAR, True),
        ("circa 2008", "c. 2008", YEAR, True),
        ("c.1990s", "c. 1990s", DECADE, True),
        (2007, "2007", YEAR, False),
        (datetime.date(2012, 4, 1), "2012-04-01", DAY, False),
        # As Danish and English spreadsheets write them.
        ("maj 2011", "2011-05", MONTH, False),
        ("May 2011", "2011-05", MONTH, False),
        ("sept. 2011", "2011-09", MONTH, False),
        ("ca. marts 2011", "c. 2011-03", MONTH, True),
        ("3. maj 2011", "2011-05-03", DAY, False),
        ("den 3. maj 2011", "2011-05-03", DAY, False),
        ("3 May 2011", "2011-05-03", DAY, False),
        ("May 3, 2011", "2011-05-03", DAY, False),
        # Danish Excel's short date, day first.
        ("03-05-2011", "2011-05-03", DAY, False),
        ("3.5.2011", "2011-05-03", DAY, False),
        # What Excel writes to CSV of a date shown as month and year.
        ("maj-11", "2011-05", MONTH, False),
        ("okt-95", "1995-10", MONTH, False),
    ],
)
def test_parse_reads_what_sources_write(text, canonical, precision, circa):
    date = PartialDate.parse(text)
    assert str(date) == canonical
    assert date.precision == precision
    assert date.circa is circa
    assert PartialDate.parse(str(date)) == date


@pytest.mark.parametrize(
    "text",
    [
        "",
        "spring",
        "2011-13",
        "2011-02-30",
        "07",
        "1985s",
        "20077",
        # Which is the day and which the month, the United States and Denmark disagree.
        "05/03/2011",
        "foråret 2012",
        "31-02-2011",
        "13-13-2011",
        "Cambodia 2011",
    ],
)
def test_parse_refuses_what_it_cannot_read(text):
    with pytest.raises(ValidationError):
        PartialDate.parse(text)


@pytest.mark.parametrize(
    ("text", "earliest", "latest"),
    [
        ("1980s", datetime.date(1980, 1, 1), datetime.date(1989, 12, 31)),
        ("2007", datetime.date(2007, 1, 1), datetime.date(2007, 12, 31)),
        ("2012-02", datetime.date(2012, 2, 1), datetime.date(2012, 2, 29)),
        ("2011-05-03", datetime.date(2011, 5, 3), datetime.date(2011, 5, 3)),
    ],
)
def test_a_partial_date_spans_the_days_it_may_mean(text, earliest, latest):
    date = PartialDate.parse(text)
    assert (date.earliest, date.latest) == (earliest, latest)


def test_display_follows_the_active_language():
    with translation.override("en"):
        assert PartialDate.parse("2011-05").display() == "May 2011"
        assert PartialDate.parse("1980s").display() == "1980s"
        assert PartialDate.parse("c. 2008").display() == "c. 2008"
    with translation.override("da"):
        assert PartialDate.parse("2011-05").display() == "maj 2011"
        assert PartialDate.parse("1980s").display() == "1980'erne"
        assert PartialDate.parse("c. 2008").display() == "ca. 2008"
    # Each language's text is kept apart (core.dates._formatted), whichever came first.
    with translation.override("en"):
        assert PartialDate.parse("2011-05").display() == "May 2011"
        assert PartialDate.parse("c. 2008").display() == "c. 2008"


@pytest.mark.django_db
def test_a_stored_date_is_read_once_per_text_and_cannot_change():
    from dataclasses import FrozenInstanceError

    from partnerships.models import Partnership
    from tests.factories import PartnershipFactory

    for start in ("c. 2008", "2011-05", "1980s"):
        PartnershipFactory(start=start)
    first, second = ([p.start for p in Partnership.objects.order_by("pk")] for _ in range(2))
    assert [str(date) for date in first] == ["c. 2008", "2011-05", "1980s"]
    # The same date each time a text is read, and shared, since nobody can change it.
    assert all(a is b for a, b in zip(first, second, strict=True))
    assert first[0] is PartialDate.stored("c. 2008")
    with pytest.raises(FrozenInstanceError):
        first[0].year = 2009
