# anklume — every command a user or CI needs.
#   make demo   set up this machine (Python env, Ansible, Incus, image) and bring up the demo infra
#   make test   the whole test suite: lint, unit, end-to-end on a real Incus, Molecule

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
ANKLUME := $(BIN)/anklume
export ANKLUME_SKIP_HOST_SUBNET_CHECK ?=

.PHONY: help venv demo demo-destroy test test-services lint unit e2e molecule incus image sync-check bench clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

venv: $(VENV)/.anklume-installed  ## Create .venv with anklume and its tools

$(VENV)/.anklume-installed: pyproject.toml
	@bash scripts/bootstrap.sh

demo: venv  ## Set up this machine and apply the demo infra (as root)
	@bash scripts/demo.sh

demo-destroy: venv  ## Remove the demo infra completely (as root; Incus itself stays as incus-setup left it)
	@bash scripts/demo.sh --destroy

test: venv  ## Run the whole suite (lint, unit, end-to-end, Molecule)
	@bash scripts/test.sh

lint: venv  ## ruff, mypy, yamllint, ansible-lint, shellcheck
	@bash scripts/test.sh lint

unit: venv  ## Unit and property tests (no Incus needed)
	@bash scripts/test.sh unit

e2e: venv  ## End-to-end tests on a real Incus (installs and starts it as root)
	@bash scripts/test.sh e2e

molecule: venv  ## Molecule scenarios of the infra roles
	@bash scripts/test.sh molecule

test-services: venv  ## Molecule scenarios of the heavy service roles (large downloads; not in make test)
	@bash scripts/test.sh services

incus:  ## Install and start Incus when missing (idempotent, as root)
	@bash scripts/incus-setup.sh

image: venv incus  ## Build the offline base image when missing
	@$(ANKLUME) image build --if-missing

sync-check: venv  ## Fail when the committed generated files differ from infra.yml
	@ANKLUME_SKIP_HOST_SUBNET_CHECK=1 $(ANKLUME) sync --check

bench: venv  ## Print the performance figures (sync scale, then apply on the local Incus)
	@$(PY) bench/sync_scale.py
	@bash bench/apply.sh

clean:  ## Remove caches (keeps .venv)
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis
