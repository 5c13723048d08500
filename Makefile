# `make run` serves the portal; `make test` runs the whole suite. See README.md.
PYTHON_VERSION := $(shell cat .python-version)
PYTHON ?= $(shell command -v python$(PYTHON_VERSION) 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
# `make test` runs the suite in this many processes (pytest-xdist; each with its own test database and
# broker queues, a test file's tests in one process); 0 runs it in this one.
TEST_PROCESSES ?= 2

.PHONY: install run test bench lint lint-schema clean

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import sys; v = "$(PYTHON_VERSION)"; sys.exit(0 if "%d.%d" % sys.version_info[:2] == v else "$(VENV) is not Python " + v + ": remove it and run make again")'
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python -m dev.devstack run

test: install
	$(BIN)/python -m dev.devstack test -n $(TEST_PROCESSES) --dist loadfile $(ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The API's OpenAPI schema, as the server makes it, against Redocly's recommended rules
# (tools/openapi-lint: the pinned Redocly CLI and its redocly.yaml). Needs Node.js 20.19+ and npm.
lint-schema: install
	@mkdir -p build
	$(BIN)/python manage.py spectacular --skip-checks --validate --fail-on-warn --file build/openapi.yaml
	cd tools/openapi-lint && npm ci --no-audit --no-fund --silent && \
		REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true npx redocly lint --config redocly.yaml ../../build/openapi.yaml

clean:
	rm -rf .data $(VENV)
