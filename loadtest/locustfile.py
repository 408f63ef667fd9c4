"""Readers browse, search and call the API while staff save records (`make loadtest`).

Run by loadtest/run.py against `make serve`; LOADTEST_TOKENS holds the staff's API tokens.
Every request is named "<group>: <what>"; at the end the errors and the 95th percentile of
each group are printed, cache hits and misses apart (locust's own table has them per name).
"""

import os
import random
import secrets
from collections import defaultdict

import requests
from locust import FastHttpUser, between, events, task

# Terms the generated registry's names contain (generate_bench_data's syllables).
SEARCH_TERMS = ["chang", "dong", "guang", "jiang", "ming", "ning", "shan", "yang", "zhou", "Aar"]
SAMPLE = 20  # records of each type that readers open, so that their pages can be cached
STAFF_WAIT = [
    float(seconds) for seconds in os.environ.get("LOADTEST_STAFF_WAIT", "5,15").split(",")
]

samples = {}
timings = defaultdict(list)
errors = defaultdict(int)


@events.test_start.add_listener
def pick_records(environment, **kwargs):
    for kind in ("partnerships", "places", "organisations"):
        answer = requests.get(
            f"{environment.host}/api/{kind}/", params={"page_size": SAMPLE}, timeout=60
        )
        answer.raise_for_status()
        samples[kind] = [record["slug"] for record in answer.json()["results"]]


@events.request.add_listener
def record(name, response_time, exception, response=None, **kwargs):
    group = name.split(":")[0]
    # The server says whether it answered from its cache (core.middleware).
    served = response.headers.get("X-Cache") if response is not None else None
    if served:
        group = f"{group} ({served.lower()})"
    timings[group].append(response_time)
    if exception:
        errors[group] += 1


@events.quitting.add_listener
def summary(environment, **kwargs):
    print(f"\n{'group':<22}{'requests':>10}{'errors':>8}{'median ms':>11}{'p95 ms':>9}")  # noqa: T201
    for group, values in sorted(timings.items()):
        values = sorted(values)
        median = values[len(values) // 2]
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        print(f"{group:<22}{len(values):>10}{errors[group]:>8}{median:>11.0f}{p95:>9.0f}")  # noqa: T201
    print(f"errors in total: {sum(errors.values())}")  # noqa: T201


class Reader(FastHttpUser):
    """An anonymous visitor: pages (cacheable), searches and API calls."""

    wait_time = between(0.5, 2.5)

    def open(self, path, name):
        with self.client.get(path, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {path}")

    @task(6)
    def browse(self):
        kind = random.choice(list(samples))
        choices = [
            ("/en/", "pages: home"),
            (f"/en/{kind}/", "pages: list"),
            (f"/en/{kind}/?page={random.randint(2, 5)}", "pages: list"),
            (f"/en/{kind}/{random.choice(samples[kind])}/", "pages: detail"),
            (f"/da/{kind}/{random.choice(samples[kind])}/", "pages: detail"),
        ]
        self.open(*random.choice(choices))

    @task(2)
    def search(self):
        term = random.choice(SEARCH_TERMS)
        if random.random() < 0.5:
            self.open(f"/en/search/?q={term}", "search: site")
        else:
            self.open(f"/en/partnerships/?q={term}", "search: list")

    @task(2)
    def api(self):
        kind = random.choice(list(samples))
        if random.random() < 0.5:
            self.open(f"/api/{kind}/?page={random.randint(1, 5)}", "api: list")
        else:
            self.open(f"/api/{kind}/{random.choice(samples[kind])}/", "api: detail")


class Staff(FastHttpUser):
    """An editor saving records through the API with a token, now and then."""

    fixed_count = int(os.environ.get("LOADTEST_STAFF", "5"))
    wait_time = between(*STAFF_WAIT)

    def on_start(self):
        tokens = os.environ["LOADTEST_TOKENS"].split(",")
        self.token = tokens[self.environment.runner.user_count % len(tokens)]

    @task
    def save(self):
        kind = random.choice(["partnerships", "places"])
        slug = random.choice(samples[kind])
        with self.client.patch(
            f"/api/{kind}/{slug}/",
            json={"description": f"Checked by the load test ({secrets.token_hex(3)})."},
            headers={"Authorization": f"Token {self.token}"},
            name=f"staff saves: {kind}",
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")
