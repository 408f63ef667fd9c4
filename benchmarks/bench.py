"""`make bench`: the speed goals of the production issue, measured side by side in one run.

For each size (partnerships; 1,000, 10,000 and 100,000 by default) a registry made by
generate_bench_data is kept in var/bench/, keyed by size and by the generator's code, so
the 100,000 one is made once; every run copies each to a throw-away database, serves all
of them at once, each by its own gunicorn (DEBUG off), and requests every public page, API
GET, search and admin page over HTTP, the sizes taking turns page by page
(benchmarks/served.py). Then the import of 10,000 partnerships is timed beside
django-import-export's default (benchmarks/imports.py). Prints a table of ratios and
goals and writes it as Markdown to var/bench/latest.md, and, when every default size was
measured, into the README between its markers for the database (``write_to_readme``).

SQLite by default; BENCH_DATABASE_URL=postgres://user:password@host:port/any measures on
PostgreSQL (registries become databases named atlas_bench_<size>_<version>).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

from common import BENCH_DIR, ROOT, Registry
from served import Served, measure

HIT_GOAL = 1.5  # × /about/ served from the cache
MISS_GOAL = 6.0  # × /about/ rendered, lists and details at 10,000
MISS_TARGET = 3.0  # the aim beside the goal
GROWTH_GOAL = 1.5  # a miss at 100,000 against the same page at 1,000
SEARCH_GOAL_MS = 50.0
ADMIN_GOAL = 20.0
IMPORT_GOAL = 15.0
SIZES = "1000,10000,100000"


def run_sizes(sizes, base_url, rounds, timings):
    """Every size's pages, its registry served by its own gunicorn beside the others."""
    registries = {size: Registry(size, base_url) for size in sizes}
    for size, registry in registries.items():
        print(f"{size:,} partnerships: registry {registry.where()}", flush=True)
        started = time.perf_counter()
        registry.ensure()  # generated if missing, migrated if not
        timings[f"registry of {size:,} ready"] = time.perf_counter() - started
    served, copies = {}, {}
    with tempfile.TemporaryDirectory(prefix="atlas-bench-") as folder:
        try:
            started = time.perf_counter()
            for size, registry in registries.items():
                copies[size] = registry.copy(folder)
                log = BENCH_DIR / f"served-{size}.gunicorn.log"
                served[size] = Served(size, copies[size], log)
            timings["servers up"] = time.perf_counter() - started
            started = time.perf_counter()
            sizes_named = ", ".join(f"{size:,}" for size in sizes)
            print(f"  every page at {sizes_named}, {rounds} rounds, sizes taking turns", flush=True)
            results = measure(served, rounds)
            timings["pages"] = time.perf_counter() - started
        finally:
            for size in served:
                served[size].close()
            for size, url in copies.items():
                registries[size].discard(url)
    for size, figures in results.items():
        (BENCH_DIR / f"served-{size}.json").write_text(json.dumps(figures, indent=2))
    print(f"  measured in {timings['pages']:.0f} s", flush=True)
    return results


def run_search(size, base_url, timings):
    """benchmarks/search.py (index beside plain scan) on the largest registry: its report
    and whether it met its goal; None if that benchmark is not there."""
    if not (ROOT / "benchmarks" / "search.py").exists():
        return None
    command = [sys.executable, "benchmarks/search.py", "--partnerships", str(size)]
    if base_url:
        command += ["--database-url", base_url]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    timings[f"search at {size:,}"] = time.perf_counter() - started
    print(completed.stdout, completed.stderr, flush=True)
    return {"text": completed.stdout.strip(), "met": completed.returncode == 0}


def run_quality(sizes, base_url, timings):
    """benchmarks/quality.py at 10,000 partnerships (or the largest size below it): its
    report and whether every check met its goal; None if that benchmark is not there."""
    if not (ROOT / "benchmarks" / "quality.py").exists():
        return None
    size = max([size for size in sizes if size <= 10_000] or sizes[:1])
    command = [sys.executable, "benchmarks/quality.py", "--partnerships", str(size)]
    if base_url:
        command += ["--database-url", base_url]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    timings[f"data quality at {size:,}"] = time.perf_counter() - started
    print(completed.stdout, completed.stderr, flush=True)
    return {"text": completed.stdout.strip(), "met": completed.returncode == 0}


def quality_section(quality):
    return (
        "\n\nbenchmarks/quality.py (each data-quality check as the admin page runs it):"
        f"\n\n```\n{quality['text']}\n```\n\nData-quality goal: {verdict(quality['met'])}"
    )


def run_import(repeat, timings):
    output = BENCH_DIR / "imports.json"
    started = time.perf_counter()
    completed = subprocess.run(
        [
            sys.executable,
            "benchmarks/imports.py",
            "--types",
            "partnerships",
            "--repeat",
            str(repeat),
            "--output",
            str(output),
        ],
        cwd=ROOT,
    )
    timings["import of 10,000 partnerships"] = time.perf_counter() - started
    if completed.returncode:
        raise SystemExit("The import benchmark failed; see above.")
    return json.loads(output.read_text())


def verdict(met):
    return "met" if met else "**missed**"


def tables(results, search, imports, backend):
    """Markdown tables of every figure and goal; returns (text, goals met, goals)."""
    sizes = sorted(results)
    lines, counts = [], [0, 0]

    def goal(met):
        counts[0] += bool(met)
        counts[1] += 1
        return verdict(met)

    about = {
        size: next(page for page in results[size]["public"] if page["kind"] == "baseline")
        for size in sizes
    }
    versioned = all(results[size]["versioning"] for size in sizes)
    lines.append(
        f"Served by gunicorn (DEBUG off) on {backend}, over HTTP, every size at once and "
        f"taking turns page by page, median of {results[sizes[0]]['rounds']} rounds; ratios "
        "to `/about/` of the same size and run (hits to its hit, misses and admin pages to "
        "its miss)."
    )
    if not versioned:
        lines.append(
            "\n`core.versioning` is not there yet: every request is a miss, no hit is measured."
        )
    lines.append("")
    header = "| page | " + " | ".join(f"hit × at {size:,}" for size in sizes)
    header += " | " + " | ".join(f"miss × at {size:,}" for size in sizes)
    header += " | goals |"
    lines += [header, "|" + " --- |" * (2 + 2 * len(sizes))]
    lines.append(
        "| `/about/` (ms) | "
        + " | ".join(f"{about[size].get('hit', 0):.1f} ms" for size in sizes)
        + " | "
        + " | ".join(f"{about[size]['miss']:.1f} ms" for size in sizes)
        + " | baseline |"
    )
    searches = {}
    # The same pages in the same order at every size; a search's word differs by registry.
    for position, page in enumerate(results[sizes[0]]["public"]):
        if page["kind"] == "baseline":
            continue
        rows = {size: results[size]["public"][position] for size in sizes}
        hits = {
            size: row["hit"] / about[size]["hit"]
            for size, row in rows.items()
            if row and "hit" in row
        }
        misses = {size: row["miss"] / about[size]["miss"] for size, row in rows.items() if row}
        goals = []
        if hits:
            goals.append(f"hits ≤ {HIT_GOAL}×: {goal(max(hits.values()) <= HIT_GOAL)}")
            uncached = [
                f"{size:,}"
                for size, row in rows.items()
                if row and row.get("served_from_cache", 1) < 1
            ]
            if uncached:
                goals.append(f"not always from the cache at {', '.join(uncached)}")
        if page["kind"] == "search":
            searches[page["label"]] = {size: row["miss"] for size, row in rows.items() if row}
        elif 10_000 in misses:
            goals.append(
                f"miss at 10,000 ≤ {MISS_GOAL:.0f}× (aim {MISS_TARGET:.0f}×): "
                f"{goal(misses[10_000] <= MISS_GOAL)}"
            )
        if 1_000 in misses and 100_000 in misses:
            # The goal as the issue words it: the page at 100,000 against the same page at
            # 1,000, in milliseconds, the sizes served at once and taking turns. Beside it,
            # the ratio of their ratios to /about/, which the goal counted while the sizes
            # were served one after the other and the baseline could move between them;
            # side by side the two servers' /about/ still differ by up to a fifth.
            growth = rows[100_000]["miss"] / rows[1_000]["miss"]
            of_ratios = misses[100_000] / misses[1_000]
            goals.append(
                f"100,000 / 1,000 = {growth:.2f} ({of_ratios:.2f} of ratios to `/about/`) "
                f"≤ {GROWTH_GOAL}: {goal(growth <= GROWTH_GOAL)}"
            )
        lines.append(
            f"| {page['label']} | "
            + " | ".join(f"{hits[size]:.2f}" if size in hits else "–" for size in sizes)
            + " | "
            + " | ".join(f"{misses[size]:.2f}" if size in misses else "–" for size in sizes)
            + f" | {'; '.join(goals) or '–'} |"
        )

    lines += ["", f"Search (a miss: a new version before each), median ms on {backend}:", ""]
    lines += ["| search | " + " | ".join(f"at {size:,}" for size in sizes) + " | goal |"]
    lines.append("|" + " --- |" * (2 + len(sizes)))
    for label, by_size in searches.items():
        largest = max(by_size)
        lines.append(
            f"| {label} | "
            + " | ".join(f"{by_size[size]:.1f} ms" if size in by_size else "–" for size in sizes)
            + f" | < {SEARCH_GOAL_MS:.0f} ms at {largest:,}: "
            + f"{goal(by_size[largest] < SEARCH_GOAL_MS)} |"
        )

    if search is not None:
        lines += [
            "",
            "benchmarks/search.py on the largest registry (test client, each request a miss; "
            "index / plain scan):",
            "",
            "```",
            search["text"],
            "```",
            "",
            f"Search goal of benchmarks/search.py: {goal(search['met'])}",
        ]

    lines += ["", "Admin pages (logged in, never cached), × `/about/` rendered:", ""]
    lines += ["| admin page | " + " | ".join(f"at {size:,}" for size in sizes) + " | goal |"]
    lines.append("|" + " --- |" * (2 + len(sizes)))
    for page in results[sizes[0]]["admin"]:
        ratios = {}
        for size in sizes:
            row = by_label(results[size]["admin"]).get(page["label"])
            if row:
                ratios[size] = row["miss"] / about[size]["miss"]
        lines.append(
            f"| {page['label']} | "
            + " | ".join(f"{ratios[size]:.1f}" if size in ratios else "–" for size in sizes)
            + f" | ≤ {ADMIN_GOAL:.0f}×: {goal(max(ratios.values()) <= ADMIN_GOAL)} |"
        )

    if imports:
        figures = imports["partnerships"]
        seconds = figures["seconds"]
        lines += [
            "",
            f"Import of {imports['rows']:,} partnerships (SQLite, median of {imports['repeat']} "
            "interleaved rounds of each side):",
            "",
            "| import | CPU seconds | goal |",
            "| --- | --- | --- |",
            f"| ours | {seconds['ours']:.1f} | – |",
            f"| django-import-export's default | {seconds['default']:.1f} | – |",
            f"| speed-up | {figures['speedup']:.1f}× | ≥ {IMPORT_GOAL:.0f}×: "
            f"{goal(figures['speedup'] >= IMPORT_GOAL)} |",
        ]
    return "\n".join(lines), counts[0], counts[1]


def by_label(pages):
    return {page["label"]: page for page in pages}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default=os.environ.get("SIZES") or SIZES, help=f"default {SIZES}"
    )
    parser.add_argument("--rounds", type=int, default=10, help="rounds of every page")
    parser.add_argument(
        "--import-repeat", type=int, default=3, help="rounds of each import (0: skip)"
    )
    arguments = parser.parse_args()
    try:
        sizes = sorted({int(size.replace("_", "")) for size in arguments.sizes.split(",")})
    except ValueError:
        raise SystemExit(
            f"SIZES takes numbers separated by commas, not {arguments.sizes!r}."
        ) from None
    if not sizes or min(sizes) < 1:
        raise SystemExit("SIZES takes positive numbers, such as 1000,10000.")
    base_url = os.environ.get("BENCH_DATABASE_URL") or None
    backend = "PostgreSQL" if base_url else "SQLite"

    started, timings = time.perf_counter(), {}
    results = run_sizes(sizes, base_url, arguments.rounds, timings)
    search = run_search(sizes[-1], base_url, timings)
    imports = run_import(arguments.import_repeat, timings) if arguments.import_repeat else None
    quality = run_quality(sizes, base_url, timings)
    text, met, goals = tables(results, search, imports, backend)
    if quality is not None:
        text += quality_section(quality)
        met, goals = met + quality["met"], goals + 1
    timings["whole run"] = time.perf_counter() - started
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"## make bench, {when}\n\n{text}\n\n{met} of {goals} goals met. Time taken: "
        + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in timings.items())
        + ".\n"
    )
    output = BENCH_DIR / "latest.md"
    output.write_text(text)
    print("\n" + text)
    print(f"Written to {output}")
    # A quick run of fewer sizes is for the one who runs it, not the README.
    if sizes == sorted(int(size) for size in SIZES.split(",")) and write_to_readme(
        ROOT / "README.md", text, backend
    ):
        print(f"and to the README's figures for {backend}")


def write_to_readme(readme, text, backend):
    """Put ``text`` (the run's Markdown) between the README's markers for ``backend``, its
    heading a level below the README's Benchmarks section; False without the markers."""
    start, end = f"<!-- make bench: {backend} -->", f"<!-- end of make bench: {backend} -->"
    written = readme.read_text(encoding="utf-8")
    before, found, rest = written.partition(start)
    _old, found_end, after = rest.partition(end)
    if not found or not found_end:
        return False
    text = text.strip().replace("## make bench, ", f"#### {backend}: make bench, ", 1)
    readme.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")
    return True


if __name__ == "__main__":
    main()
