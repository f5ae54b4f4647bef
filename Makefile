# Two commands on a fresh machine: `make demo` and `make test`. Everything installs from here.
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell md5sum pyproject.toml 2>/dev/null | cut -c1-8)
HOST   ?= 127.0.0.1
PORT   ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install demo serve test screenshots check format bench bench-cluster eval services browser clean help

help:
	@echo "make demo     install, migrate, load demo data and serve the dashboard + web chat"
	@echo "make test     run the whole test suite (SQLite and PostgreSQL)"
	@echo "make check    ruff format --check, ruff check, mypy --strict, import-linter"
	@echo "make bench    engine and web-chat throughput against baselines"
	@echo "make bench-cluster / make eval   clustering benchmarks / privacy evaluation"

install: $(STAMP)
$(STAMP): pyproject.toml
	$(PY) -m pip --version >/dev/null 2>&1 || python3 -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	$(BIN)/jeugdstem demo --host $(HOST) --port $(PORT)

serve: install
	$(BIN)/jeugdstem serve --host $(HOST) --port $(PORT)

# Starts PostgreSQL/Redis only if they are down (CI machines start them before the session).
services:
	@bash .ci/services

# Browser tests drive Debian's chromium through Playwright (no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install services browser
	$(BIN)/pytest -q -p no:cacheprovider

# Refresh docs/screenshots from the browser tests.
screenshots: install browser
	JEUGDSTEM_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:cacheprovider \
	  tests/admin/test_browser.py tests/bot/channels/test_webchat_browser.py

check: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install services
	$(PY) bench/engine_bench.py
	$(PY) bench/telegram_bench.py
	$(PY) bench/themes_bench.py

bench-cluster: install
	$(PY) bench/cluster_bench.py

eval: install
	$(PY) bench/eval_privacy.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
