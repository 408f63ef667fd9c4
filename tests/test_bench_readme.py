"""``make bench`` writes its figures into the README, between the markers of its database."""

import importlib.util
import sys

import pytest
from django.conf import settings


@pytest.fixture(scope="module")
def write_to_readme():
    """``benchmarks/bench.py``'s writer, loaded as ``make bench`` runs it."""
    folder = str(settings.BASE_DIR / "benchmarks")
    spec = importlib.util.spec_from_file_location("bench_figures", f"{folder}/bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, folder)  # its own imports: common, served
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module.write_to_readme


README = """# Atlas

## Benchmarks

<!-- make bench: SQLite -->
#### SQLite: make bench, 2026-12-01 10:00 UTC

old figures
<!-- end of make bench: SQLite -->

<!-- make bench: PostgreSQL -->
<!-- end of make bench: PostgreSQL -->

## Dependencies
"""


def test_a_run_replaces_its_own_database_s_figures_only(tmp_path, write_to_readme):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    text = "## make bench, 2026-12-06 22:01 UTC\n\n| page | hit |\n\n112 of 119 goals met.\n"
    assert write_to_readme(readme, text, "PostgreSQL")
    written = readme.read_text(encoding="utf-8")
    assert written == README.replace(
        "<!-- make bench: PostgreSQL -->\n",
        "<!-- make bench: PostgreSQL -->\n#### PostgreSQL: make bench, 2026-12-06 22:01 UTC"
        "\n\n| page | hit |\n\n112 of 119 goals met.\n",
    )
    assert write_to_readme(readme, text, "SQLite")
    written = readme.read_text(encoding="utf-8")
    assert "old figures" not in written
    assert written.count("#### SQLite: make bench, 2026-12-06 22:01 UTC") == 1
    assert written.endswith("<!-- end of make bench: PostgreSQL -->\n\n## Dependencies\n")


def test_a_readme_without_markers_is_left_as_it_was(tmp_path, write_to_readme):
    readme = tmp_path / "README.md"
    readme.write_text("# Atlas\n\n<!-- make bench: SQLite -->\n", encoding="utf-8")
    assert not write_to_readme(readme, "## make bench, now\n", "SQLite")
    assert readme.read_text(encoding="utf-8") == "# Atlas\n\n<!-- make bench: SQLite -->\n"


def test_the_readme_holds_the_markers_of_both_databases():
    readme = (settings.BASE_DIR / "README.md").read_text(encoding="utf-8")
    for backend in ("SQLite", "PostgreSQL"):
        start = readme.index(f"<!-- make bench: {backend} -->")
        assert readme.index(f"<!-- end of make bench: {backend} -->") > start
