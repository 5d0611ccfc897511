# FINSIG pipeline-in-a-box. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The version and SOURCE_DATE_EPOCH have one owner in shell: scripts/lib/source.sh. No epoch is
# exported from here: each image takes its own from its inputs (docs/images.md).
VERSION := $(shell bash -c '. scripts/lib/source.sh && project_version')
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help deps wheelhouse engine base images app-context vulndb browser-deps test test-unit pipeline drills bundle clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-zA-Z_-]*:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

wheelhouse: ## Download every pinned wheel into ./wheelhouse (the only step that reaches PyPI)
	@scripts/wheelhouse.sh

deps: ## Host tools (Debian, root) and the project venv .venv, installed from the wheelhouse
	@scripts/deps.sh

engine: ## Ensure a Docker engine answers (installs docker.io and starts dockerd when needed)
	@scripts/engine.sh

base: deps engine ## Build finsig/base:<version> reproducibly with mmdebstrap (seconds when it exists)
	@scripts/build-base.sh

images: base vulndb ## Build every image (base, services, app, runner); seconds when nothing changed
	@scripts/build-images.sh

app-context: deps ## Prepare the app image's build context (wheel, core wheels, hashed lock) in build/app-context
	@scripts/build-app-image.sh --context build/app-context --prepare-only

vulndb: deps ## Build the offline vulnerability database ./vulndb from the vendored advisory data
	@scripts/vulndb.sh

browser-deps: ## Debian's chromium and chromium-driver for the report tests (root; only when missing)
	@scripts/browser-deps.sh

test: deps engine images browser-deps ## Run the whole test suite (Docker tests included)
	@$(PY) -m pytest $(PYTEST_ARGS)

test-unit: deps ## Run only the tests that need no Docker engine
	@$(PY) -m pytest -m "not docker" $(PYTEST_ARGS)

pipeline: deps engine images ## Run the whole pipeline over this repository (KEY=path: then seal it)
	@$(if $(KEY),FINSIG_SIGNING_KEY="$(KEY)" )scripts/pipeline.sh

# The reliability drills (drills/, docs/reliability.md): about two hours on 2 cores, never part of
# `make test`. DRILLS picks one part; an interrupted part resumes; DRILLS_ARGS=--fresh starts over.
DRILLS ?= all
DRILLS_ARGS ?=
drills: deps engine images ## Reliability drills, then docs/reliability.md: make drills [DRILLS=faults|soak|interrupts|durability|fuzz] [DRILLS_ARGS=--fresh]
	@$(PY) -m drills $(DRILLS) $(DRILLS_ARGS)

# The isolated-site bundle (docs/airgap.md). Without KEY, make stops before building anything.
BUNDLE ?= dist/finsig-bundle-$(VERSION).tar
ifneq ($(filter bundle,$(MAKECMDGOALS)),)
ifeq ($(strip $(KEY)),)
$(error make bundle needs KEY=path/to/finsig-signing.key (make a pair with: finsig-runner keygen DIR))
endif
endif

bundle: deps engine images ## Export every image into one signed bundle: make bundle KEY=path [BUNDLE=out.tar]
	@$(VENV)/bin/finsig-runner bundle export "$(BUNDLE)" --key "$(KEY)" --force

clean: ## Remove local outputs (reports, artifacts, build dirs); keeps .venv and the wheelhouse
	rm -rf reports artifacts build dist .pytest_cache .mypy_cache htmlcov .coverage
