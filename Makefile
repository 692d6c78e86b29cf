# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check

.PHONY: install install-dev browser run index chat test web eval bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install -e ".[dev,st]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev node_modules/.installed

# Debian's Chromium + chromedriver for the review page's browser tests: apt-get install when /usr/bin/chromium is
# missing (sudo when not root; a clear message when apt is not there). Nothing is downloaded at test time.
browser:
	@./scripts/install-chromium.sh

# Builds the index from corpus/ (incremental), then starts the bot: Telegram/Zalo when tokens are set,
# a console chat otherwise.
run: install
	$(PY) -m bot index
	$(PY) -m bot serve

index: install
	$(PY) -m bot index

chat: install
	$(PY) -m bot chat

test: install-dev browser
	$(PY) -m pytest -q

# The officer's review page (needs BOT_WEB_TOKEN in .env)
web: install
	$(PY) -m bot web

# The gold questions live in ../shared (beside the project); another file: make eval EVAL_FILE=path.jsonl
EVAL_FILE ?= ../shared/eval/dev.jsonl
eval: install
	$(PY) -m bot eval $(EVAL_FILE)

bench: install-dev
	$(PY) -m bot bench

clean:
	rm -rf $(VENV) node_modules data .pytest_cache
