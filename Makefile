# Partnership Atlas: `make run` serves the site with the seed loaded, `make test` runs
# everything CI runs. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Local development only: DEBUG on, with the throw-away key settings.py allows then.
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run serve test lint format bench loadtest superuser seed messages clean

$(BIN)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

run: $(BIN)/.installed
	$(DEV_ENV) $(MANAGE) migrate --no-input
	$(DEV_ENV) $(MANAGE) load_seed
	$(DEV_ENV) $(MANAGE) runserver 127.0.0.1:8000

# As in production on one machine: DEBUG off, gunicorn, compressed static files. Needs
# DJANGO_SECRET_KEY (settings.py says how to make one); PORT and WEB_CONCURRENCY optional.
serve: $(BIN)/.installed
	@test -n "$$DJANGO_SECRET_KEY" || { echo "DJANGO_SECRET_KEY is not set. Make one with:" \
	  "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"; exit 2; }
	DJANGO_DEBUG=0 $(MANAGE) collectstatic --no-input --verbosity 0
	DJANGO_DEBUG=0 $(MANAGE) migrate --no-input
	DJANGO_DEBUG=0 $(BIN)/gunicorn --config config/gunicorn.conf.py

# The suite runs on every core (pytest-xdist), each worker with a test database of its
# own; TEST_WORKERS=0 runs it in one process, as a debugger wants.
TEST_WORKERS ?= auto
test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(DEV_ENV) $(MANAGE) makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/pytest --create-db -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# The speed goals, side by side in one run (benchmarks/bench.py): every public page, API
# GET, search and admin page served by gunicorn (DEBUG off) at SIZES partnerships, cache
# hits and misses, then the import of 10,000 partnerships; the table goes to
# var/bench/latest.md. A quick run: `make bench SIZES=1000,10000 IMPORT_REPEAT=1`.
# BENCH_DATABASE_URL=postgres://user:password@host:port/any measures on PostgreSQL.
SIZES ?= 1000,10000,100000
ROUNDS ?= 10
IMPORT_REPEAT ?= 3
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/bench.py --sizes $(SIZES) --rounds $(ROUNDS) \
	  --import-repeat $(IMPORT_REPEAT)

# 50 readers and 5 staff against `make serve` on 10,000 partnerships for 60 s (loadtest/).
# Locust gets a venv of its own, made here only, never in CI (requirements-loadtest.txt).
LOADTEST_VENV := var/loadtest/venv
$(LOADTEST_VENV)/.installed: requirements-loadtest.txt
	$(PYTHON) -m venv $(LOADTEST_VENV)
	$(LOADTEST_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-loadtest.txt
	touch $@

loadtest: $(BIN)/.installed $(LOADTEST_VENV)/.installed
	LOCUST=$(LOADTEST_VENV)/bin/locust $(BIN)/python loadtest/run.py

superuser: $(BIN)/.installed
	$(DEV_ENV) $(MANAGE) migrate --no-input
	$(DEV_ENV) $(MANAGE) createsuperuser

# Rebuild fixtures/seed.json from fixtures/build_seed.py after changing the seed.
seed: $(BIN)/.installed
	$(DEV_ENV) $(BIN)/python fixtures/build_seed.py

# Extract and compile the Danish translations (needs GNU gettext: apt-get install gettext).
messages: $(BIN)/.installed
	$(DEV_ENV) $(MANAGE) makemessages --locale da --ignore '.venv/*' --ignore 'staticfiles/*' --ignore 'var/*'
	$(DEV_ENV) $(MANAGE) compilemessages --locale da --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
