# The front door. Every README command and every CI step is a target here, so what CI runs
# is what a person runs. Targets call scripts that live beside the thing they work on.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

# Operator inputs (ENV, REVISION) reach scripts as environment data, never as recipe text:
# make would run a `$(shell ...)` in a value it expands, and the shell a `; cmd` pasted into a
# line. $(value ...) takes the text as given (on the command line or in the environment),
# `:=` keeps it from being expanded again, and the scripts validate it before any use.
# deploy and rollback get only what was given (nothing: deploy refuses, rollback goes back
# one release).
ENV ?= production
export STACKS_ENV := $(value ENV)
export STACKS_REVISION := $(value REVISION)
# The database's operations: make backup TYPE=..., restore AT=... BACKUP=... CONFIRM=yes,
# maintenance STATE=on|off (tools/deploy checks each).
export STACKS_BACKUP_TYPE := $(value TYPE)
export STACKS_RESTORE_AT := $(value AT)
export STACKS_RESTORE_BACKUP := $(value BACKUP)
export STACKS_CONFIRM := $(value CONFIRM)
export STACKS_MAINTENANCE := $(value STATE)
# The same for the operations' inputs (status, logs, exec, prune): HOST, CMD, SERVICE, SINCE, GREP,
# FOLLOW; each script says what it accepts and refuses the rest with one line naming it.
export STACKS_HOST := $(value HOST)
export STACKS_CMD := $(value CMD)
export STACKS_SERVICE := $(value SERVICE)
export STACKS_SINCE := $(value SINCE)
export STACKS_GREP := $(value GREP)
export STACKS_FOLLOW := $(value FOLLOW)
# make lab ENGINE=compose|swarm (deploy/lab/lab checks it).
export LAB_ENGINE := $(value ENGINE)

# The image: name and the revision it reports at /version (REVISION as given, else the git
# revision), passed the same way.
IMAGE ?= library
export STACKS_IMAGE_REVISION := $(or $(value REVISION),$(shell git rev-parse HEAD 2>/dev/null || echo unknown))
unexport ENV REVISION TYPE AT BACKUP CONFIRM STATE HOST CMD SERVICE SINCE GREP FOLLOW ENGINE

# The docker client every script and test uses: one that can do BuildKit builds, chosen by
# tools/offline/docker-client (DOCKER=... on the command line or in the environment wins).
ifeq ($(origin DOCKER),undefined)
DOCKER := $(shell tools/offline/docker-client)
endif
export DOCKER

.PHONY: help setup venv lab lab-down run image test test-app test-image test-workflows test-tools test-ansible test-lab lint bench bench-deploy deploy rollback unlock backup restore maintenance status logs exec prune

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

setup: ## install what this machine needs (Debian packages, uv, Docker engine); idempotent
	tools/setup-machine

venv: setup ## the operator's virtualenv (.venv: ansible, linters, testinfra)
	uv sync --frozen --quiet

lab: venv ## make two local Debian hosts and deploy the library to them with site.yml (ENGINE=swarm: as one swarm)
	deploy/lab/lab up

lab-down: ## remove everything `make lab` made
	deploy/lab/lab down

run: ## the app alone on SQLite with demo data at http://127.0.0.1:8000 (needs only uv and Python, no root)
	app/run-dev

image: setup ## build the app image, tagged with the git revision; prints its size
	tools/build-image "$(IMAGE)" "$$STACKS_IMAGE_REVISION"

lint: venv ## ruff, yamllint, ansible-lint, hadolint, actionlint, shellcheck
	tools/lint

test: lint test-app test-image test-workflows test-tools test-ansible test-lab ## every test, from a fresh machine

test-app: setup ## app tests against a real PostgreSQL
	tests/app/run

test-image: setup ## build the image and check it running against PostgreSQL
	tests/image/run

test-workflows: venv ## the GitHub workflows lint clean and call only what exists in the repository
	.venv/bin/pytest -q tests/workflows

test-tools: venv ## the tools/ scripts (deploy, smoke, lint), make run's needs, the pre-commit hooks
	.venv/bin/pytest -q tests/tools

test-ansible: venv ## preflight and syntax checks of every inventory (no host needed)
	.venv/bin/pytest -q tests/ansible

test-lab: venv ## end-to-end: lab hosts, site.yml, testinfra, upgrade, failed deploy
	tests/e2e/run

bench: venv ## figures: query counts and latency (app), image size against debian:trixie-slim + python3, HTTP rates through the lab's proxy (after make lab)
	app/bench
	tools/image-size "$(IMAGE)" "$$STACKS_IMAGE_REVISION"
	.venv/bin/python deploy/lab/bench-http

bench-deploy: venv ## deploy figures in the lab (after make lab): phase times, failed and slowest requests under load, no-op site.yml
	deploy/lab/bench-deploy

# ENV and REVISION: read as plain text at the top of this file.
deploy: venv ## ship REVISION=<git sha> to deploy/ENV (production|staging|lab), start-first, then smoke-check every host
	tools/deploy "$$STACKS_ENV" "$$STACKS_REVISION"

rollback: venv ## every host of ENV back to the release before the one it runs (or REVISION=<sha>), start-first
	tools/deploy --rollback "$$STACKS_ENV" "$$STACKS_REVISION"

unlock: venv ## release ENV's deploy lock, left by a run that died
	tools/deploy --unlock "$$STACKS_ENV"

backup: venv ## a base backup of every database of ENV now (TYPE=incr|diff|full; WAL is archived all the time)
	tools/deploy --backup "$$STACKS_ENV"

restore: venv ## ENV's databases (or HOST's) back to AT="YYYY-MM-DD HH:MM:SS" (UTC), BACKUP=<label> or the latest WAL; says what it would do unless CONFIRM=yes
	tools/deploy --restore "$$STACKS_ENV"

maintenance: venv ## the maintenance page on every host of ENV (STATE=on|off): 503 with Retry-After, health endpoints still answer
	tools/deploy --maintenance "$$STACKS_ENV"

# Operations: ENV and the inputs below are read as plain text at the top of this file.
status: venv ## every host of ENV in one table: revision, image, services' health, disks, deploy lock, last releases
	tools/status "$$STACKS_ENV"

logs: venv ## ENV's compose logs from every host, prefixed by host [SERVICE=web] [SINCE=10m] [GREP=regex] [FOLLOW=1]
	tools/logs "$$STACKS_ENV" "$$STACKS_SERVICE" "$$STACKS_SINCE" "$$STACKS_GREP" "$$STACKS_FOLLOW"

exec: venv ## CMD="manage.py ..." on HOST of ENV, in a one-off container of the running release (stdin passed through)
	tools/manage "$$STACKS_ENV" "$$STACKS_HOST" "$$STACKS_CMD"

prune: venv ## old images and stopped containers off every host of ENV, keeping what a rollback needs
	tools/prune "$$STACKS_ENV"
