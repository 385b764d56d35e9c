# policywatch: the two commands that do all set-up on a fresh machine are `make demo` and
# `make test`. Both create .venv if missing and install the project into it; re-running them
# when nothing changed skips the install (the stamp file is newer than pyproject.toml).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint bench clean browser services

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# torch is pinned to 2.13.0, the CPU wheel; pip finds it through the machine's find-links.
# The scale extra (Ray, redis-py, scrapy-redis) is for the scale-out tests; the Ray tests start
# their own head on 127.0.0.1 (tests/conftest.py, ray_address), or reuse
# $POLICYWATCH_TEST_RAY_ADDRESS.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,scale]'
	touch $(STAMP)

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	touch $(BENCH_STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/policywatch demo $(DEMO_ARGS)

# The browser test (tests/test_web_browser.py) drives Debian's headless Chromium; install it
# when missing. Without root or apt the test skips and says why.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	    { $$SUDO apt-get update -qq && \
	      $$SUDO apt-get install -y --no-install-recommends chromium chromium-driver; } \
	      || echo "chromium could not be installed: the browser test will be skipped"; }

# The scale-out tests start their own redis-server (127.0.0.1, a free port, no persistence);
# install Debian's when missing. Nothing is started here. Without root or apt those tests
# skip and say why.
services:
	@command -v redis-server >/dev/null || \
	  { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	    { $$SUDO apt-get update -qq && \
	      $$SUDO apt-get install -y --no-install-recommends redis-server; } \
	      || echo "redis-server could not be installed: the scale tests will be skipped"; }

test: $(STAMP) browser services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/extraction.py
	$(BIN)/python benchmarks/article_extraction.py
	$(BIN)/python benchmarks/stories.py
	$(BIN)/python benchmarks/dedup.py
	$(BIN)/python benchmarks/themes.py
	$(BIN)/python benchmarks/crawl.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
