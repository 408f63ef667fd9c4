import csv
import io

import openpyxl
import pytest

from atlas.registry import IMPORT_SPECS as SPECS
from importing.engine import Importer


def csv_bytes(lines, delimiter=",", encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(lines):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for cells in lines:
        sheet.append(list(cells))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run(record_type, data, dry_run=False, user=None, file_name="test.csv"):
    return Importer(SPECS[record_type], user=user).run(data, file_name, dry_run=dry_run)


def messages(report):
    return [str(problem) for problem in report.problems]


@pytest.fixture
def source(db):
    from tests.factories import SourceFactory

    return SourceFactory(title="Background note")


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    # Admin uploads wait here between preview and confirmation.
    settings.ATLAS_IMPORT_UPLOAD_DIR = str(tmp_path)
