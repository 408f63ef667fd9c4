# Partnership Atlas: `make run` serves the site with the seed loaded, `make test` runs
# everything CI runs. Both set themselves up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
# Local development only: DEBUG on, with the throw-away key settings.py allows then.
DEV_ENV := DJANGO_DEBUG=1

.PHONY: run serve test lint format bench superuser seed messages clean

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

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(DEV_ENV) $(MANAGE) makemigrations --check --dry-run
	$(DEV_ENV) $(BIN)/pytest --create-db

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Speed goals, measured side by side in one run (see benchmarks/*.py); prints ratios.
bench: $(BIN)/.installed
	$(BIN)/python benchmarks/pages.py --partnerships 10000
	@if [ -f benchmarks/imports.py ]; then $(BIN)/python benchmarks/imports.py; fi

superuser: $(BIN)/.installed
	$(DEV_ENV) $(MANAGE) migrate --no-input
	$(DEV_ENV) $(MANAGE) createsuperuser

# Rebuild fixtures/seed.json from fixtures/build_seed.py after changing the seed.
seed: $(BIN)/.installed
	$(DEV_ENV) $(BIN)/python fixtures/build_seed.py

# Extract and compile the Danish translations (needs GNU gettext: apt-get install gettext).
messages: $(BIN)/.installed
	$(DEV_ENV) $(MANAGE) makemessages --locale da --ignore '.venv/*' --ignore 'staticfiles/*'
	$(DEV_ENV) $(MANAGE) compilemessages --locale da --ignore '.venv/*'

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
