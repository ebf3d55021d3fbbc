# Request Logs API — the two commands are `make run` and `make test`; each builds its own virtualenv.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/shared
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
PYTEST_ARGS ?=

.PHONY: run test dashboard browser lint typecheck template-check unit integration e2e bench load invoke admin openapi client-models build deploy clean

$(VENV)/.installed: requirements-dev.txt layers/shared/requirements.txt clients/python/pyproject.toml functions/export_logs/requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	@echo "make: creating the virtualenv $(VENV) (once; about a minute): pip, then requirements-dev.txt"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --progress-bar off -r requirements-dev.txt
	@echo "make: $(VENV) is ready ($$($(PY) -m pip list --format=freeze | wc -l) packages)"
	touch $@

$(SAM_VENV)/.installed:
	@echo "make: creating $(SAM_VENV) for the SAM CLI (once; template checks and make build use it)"
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet "aws-sam-cli>=1.140,<2"
	touch $@

## run: the whole system on loopback (moto server, demo data through ingest, API and dashboard on 127.0.0.1:$${PORT:-3000})
run: $(VENV)/.installed dashboard
	$(PY) -m local.run

## test: lint, type-check, template checks, then every test (the dashboard's in Chromium), on
## PYTEST_WORKERS processes (pytest-xdist; every test provisions its own moto and ports, so they share nothing)
PYTEST_WORKERS ?= 2
test: lint dashboard browser
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

## dashboard: the dashboard's pinned chart library (npm ci of dashboard/package-lock.json, with the
## virtualenv's Node.js from PyPI); the site itself is plain files in dashboard/site, served as they are
DASHBOARD_INSTALLED := dashboard/node_modules/.installed
dashboard: $(DASHBOARD_INSTALLED)
$(DASHBOARD_INSTALLED): dashboard/package-lock.json $(VENV)/.installed
	PATH="$(abspath $(VENV))/bin:$$PATH" npm ci --prefix dashboard --no-audit --no-fund --loglevel=error
	touch $@

## browser: Chromium for the dashboard's tests; Debian's package, installed when missing and run as root
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make: installing Chromium for the dashboard's browser tests (apt-get install chromium; once)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "make: no Chromium at $(CHROMIUM): install it (Debian/Ubuntu: sudo apt-get install chromium)," \
				"or set CHROMIUM=/path/to/chromium"; exit 1; \
		fi; \
	fi

lint: $(VENV)/.installed template-check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/shared/request_logs local bench admin
	$(VENV)/bin/mypy clients/python/request_logs_client
	@# One run per function: every handler module is named app, which mypy refuses to see twice in one run.
	@for handler in functions/*/app.py; do $(VENV)/bin/mypy $$handler || exit 1; done

template-check: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM_VENV)/bin/sam validate --lint --template template.yaml --region $(AWS_DEFAULT_REGION)

unit integration e2e: $(VENV)/.installed dashboard browser
	$(PY) -m pytest tests/$@ $(PYTEST_ARGS)

## bench: benchmarks → bench/results.json and docs/benchmarks.md
bench: $(VENV)/.installed dashboard
	$(PY) -m bench.run

## load: 20 clients × 60 s on the local runtime while it ingests → bench/load_results.json; then
## re-renders docs/benchmarks.md from bench/results.json and the load results (no new benchmark run)
load: $(VENV)/.installed dashboard
	$(PY) -m bench.load
	$(PY) -m bench.report

## openapi: regenerate docs/openapi.json from the handlers (a test fails while it is stale)
openapi: $(VENV)/.installed
	$(PY) -m local.openapi --write

## client-models: regenerate the Python client's response models from docs/openapi.json (datamodel-code-generator;
## a test fails while the committed clients/python/request_logs_client/models.py is stale)
client-models: $(VENV)/.installed
	$(PY) clients/python/scripts/generate_models.py

## invoke: Docker-free `sam local invoke`, e.g. make invoke FN=ListRequestLogsFunction EVENT=events/api/list_ok.json
## on in-process fixture data (the world of events/); TARGET=local runs it on the running `make run` instead
invoke: $(VENV)/.installed
	$(PY) -m local.invoke $(FN) --event $(EVENT) $(if $(TARGET),--target $(TARGET))

## admin: accounts and keys, e.g. make admin ARGS="create-account --name Acme" (finds the running `make run` by itself)
admin: $(VENV)/.installed
	$(PY) -m admin $(ARGS)

## build: the deploy artifacts in $(BUILD_DIR): the layer's wheels for python3.13 on arm64 whatever Python runs
## this, no Docker (layers/shared/Makefile, functions/Makefile; tests/e2e/test_build.py builds into a temp dir)
BUILD_DIR ?= .aws-sam/build
build: $(SAM_VENV)/.installed
	LAYER_PIP="$(abspath $(SAM_VENV))/bin/python -m pip" \
		$(SAM_VENV)/bin/sam build --parallel --build-dir $(BUILD_DIR) --template-file template.yaml

## deploy: sam deploy --guided (it asks for the stack's name and region and saves the answers in samconfig.toml),
## then the dashboard's files to the stack's bucket and a CloudFront invalidation (local/deploy_dashboard.py, which
## reads the stack's name from samconfig.toml). STACK=name names the stack for both instead.
STACK ?=
deploy: build dashboard $(VENV)/.installed
	$(SAM_VENV)/bin/sam deploy --guided $(if $(STACK),--stack-name $(STACK))
	$(PY) -m local.deploy_dashboard $(if $(STACK),--stack-name $(STACK))

clean:
	rm -rf $(VENV) $(SAM_VENV) dashboard/node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
