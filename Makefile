# hubdash: two commands for a fresh clone.
#   make run   - install, then start the app on the built-in demo data (http://localhost:8501)
#   make test  - install (including Debian's chromium for browser tests), then run every test
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test install browser demo bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

install: $(VENV)/.installed

# Browser tests use Debian's chromium; never `playwright install` (no downloads here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian chromium for the browser tests"; \
	  apt-get update -q && apt-get install -y -q chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0; }

run: install
	$(BIN)/python -m hubdash serve --server.port $(PORT)

test: install browser
	$(BIN)/python -m pytest

demo: install
	$(BIN)/python -m hubdash demo

bench: install
	$(BIN)/python -m hubdash bench --json artifacts/bench.json

clean:
	rm -rf $(VENV) artifacts .pytest_cache
