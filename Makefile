# bbbfleet — the front door.  `make demo` and `make test` set up everything they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bbbfleet demo $(ARGS)

tests/clients/node_modules/.installed: tests/clients/package.json
	@if command -v npm >/dev/null 2>&1; then \
		(cd tests/clients && npm install --no-audit --no-fund --loglevel=error && touch node_modules/.installed) \
			|| echo "npm install failed: the JavaScript client tests will be skipped"; \
	else echo "npm not found: the JavaScript client tests will be skipped"; fi

test: $(STAMP) tests/clients/node_modules/.installed
	$(BIN)/pytest -q $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)
	$(BIN)/python -m bench.fleet $(FLEET_ARGS)
	$(BIN)/python -m bench.webhooks $(HOOKS_ARGS)
	$(BIN)/python -m bench.recordings $(RECORDINGS_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bbbfleet tests bench
	$(BIN)/ruff format --check bbbfleet tests bench
	$(BIN)/mypy bbbfleet

clean:
	rm -rf $(VENV) var tests/clients/node_modules .pytest_cache .mypy_cache .ruff_cache
