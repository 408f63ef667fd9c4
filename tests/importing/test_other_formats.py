"""Spreadsheets in a format the import does not read (Excel's old .xls, a workbook with a
password, LibreOffice's .ods, an HTML table named .xls) are told apart by their first
bytes and refused with how to save them so that they can be read."""

import io
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from importing.spreadsheets import OLE2_MAGIC, UnreadableFile, read_table
from places.models import Place

pytestmark = pytest.mark.django_db


def ods():
    # As LibreOffice writes one: the type first, stored, then the content.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "mimetype", "application/vnd.oasis.opendocument.spreadsheet", zipfile.ZIP_STORED
        )
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


XLS = OLE2_MAGIC + b"\x00" * 504
HTML = (
    b"\xef\xbb\xbf\r\n<html><body><table><tr><td>navn</td><td>type</td></tr>"
    b"<tr><td>Wuxi</td><td>by</td></tr></table></body></html>"
)


@pytest.mark.parametrize(
    ("data", "names", "message"),
    [
        (XLS, ["steder.xls", "steder.xlsx", "steder.csv"], "Excel's older format (.xls)"),
        (ods(), ["steder.ods", "steder.xlsx"], "an OpenDocument spreadsheet (.ods)"),
        (HTML, ["steder.xls", "steder.csv"], "a web page or other markup (HTML or XML)"),
    ],
)
def test_refused_by_what_they_are_whatever_their_name(data, names, message):
    for name in names:
        with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_table(data, name)


def test_the_admin_says_how_to_save_an_ods_file(editor_client):
    file = io.BytesIO(ods())
    file.name = "steder.ods"

    response = editor_client.post(reverse("admin:places_place_import"), {"file": file})

    assert response.status_code == 200
    assert (
        "The file is an OpenDocument spreadsheet (.ods), as LibreOffice saves it. Save it as "
        "an Excel workbook (.xlsx) or as CSV UTF-8: in LibreOffice, File, Save As, and the "
        "type Excel 2007-365 or Text CSV."
    ) in response.content.decode()
    assert not Place.objects.exists()


def test_the_command_exits_2_for_an_xls_file(tmp_path):
    path = tmp_path / "steder.xls"
    path.write_bytes(XLS)

    with pytest.raises(CommandError) as raised:
        call_command("import_records", "places", str(path))

    assert raised.value.returncode == 2
    assert str(raised.value).startswith("steder.xls: The file is in Excel's older format (.xls)")
