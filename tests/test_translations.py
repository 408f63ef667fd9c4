from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "da" / "LC_MESSAGES"


def test_every_danish_string_is_translated():
    catalog = polib.pofile(str(LOCALE / "django.po"))
    missing = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert missing == []
    assert fuzzy == []


def test_the_compiled_catalog_matches_the_po_file():
    source = polib.pofile(str(LOCALE / "django.po"))
    compiled = polib.mofile(str(LOCALE / "django.mo"))
    expected = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0)
        for entry in source.translated_entries()
    }
    actual = {
        (entry.msgctxt, entry.msgid): entry.msgstr or entry.msgstr_plural.get(0)
        for entry in compiled
        if entry.msgid
    }
    assert actual == expected, "run `make messages` to compile the .po file"
