"""Formula escaping round-trips: what an export writes, an import reads back unchanged.

By design the importer trims the whitespace around a cell, so a value with trailing
whitespace, or with plain spaces in front, comes back without it; everything else,
including a leading apostrophe, tab, line break or carriage return, comes back exactly
(a Windows line break inside a value comes back as '\\n').
"""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.exports import csv_text, neutralise
from core.text import tidy
from importing.readers import clean_cell
from importing.spreadsheets import read_table, write_table


def expected(text):
    text = text.replace("\r\n", "\n")
    return text.strip() if text.startswith(" ") else text.rstrip()


def back_from_csv(text):
    table = read_table(csv_text(["name", "kind"], [[text, "city"]]).encode("utf-8"), "e.csv")
    assert table.header == ["name", "kind"]
    return clean_cell(table.rows[0][1][0])


def back_from_xlsx(text):
    table = read_table(write_table(["name", "kind"], [[text, "city"]], "xlsx"), "e.xlsx")
    return clean_cell(table.rows[0][1][0])


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("'quoted", "''quoted"),
        ("''", "'''"),
        ("\tindented", "'\tindented"),
        ("\rcmd", "'\rcmd"),
        ("\nsecond line", "'\nsecond line"),
        (" spaced", " spaced"),
        ("it's", "it's"),
        ("-8.2", "-8.2"),
        ("-8.2\n", "'-8.2\n"),
    ],
)
def test_neutralise_escapes_what_the_import_would_change(text, cell):
    assert neutralise(text) == cell


@pytest.mark.parametrize("read_back", [back_from_csv, back_from_xlsx])
@pytest.mark.parametrize(
    "text",
    [
        "'quoted",
        "''twice",
        "'",
        "\ttab first",
        "\rreturn first",
        "\r\nwindows line first",
        "\nline first",
        '=HYPERLINK("http://evil")',
        "+45 12 34",
        "@SUM(A1)",
        "-2+3",
        "-8.25",
        "_x000D_ as text",
        "a\rb",
        "bell\x07",
        "南京; Nanjing",
    ],
)
def test_values_come_back_exactly(read_back, text):
    assert read_back(text) == expected(text)


# NUL is no text: a CSV holding one is refused, and PostgreSQL stores none. Lone surrogates
# cannot be written in UTF-8 at all. Stored text is tidied (``core.text.tidy``), and so is
# a cell read: what is exported is text as stored.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30).map(tidy)


@settings(max_examples=150, deadline=None)
@given(TEXT)
@example("'\t")
@example("\t ")
@example("''=1")
def test_any_text_round_trips_through_csv(text):
    assert back_from_csv(text) == expected(text)


@settings(max_examples=60, deadline=None)
@given(TEXT)
@example("_x005F_x0041_")
@example("\r")
@example("\ufffe")
def test_any_text_round_trips_through_xlsx(text):
    assert back_from_xlsx(text) == expected(text)


@given(TEXT)
def test_clean_cell_inverts_neutralise(text):
    assert clean_cell(neutralise(text)) == expected(text)
