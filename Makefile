# The front door. Every README command and every CI step is a target here, so what CI runs
# is what a person runs. Targets call scripts that live beside the thing they work on.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never

# Operator inputs (ENV, REVISION, ...) reach the programs as data, never as recipe text: make
# would run a `$(shell ...)` in a value it expands, and the shell a `; cmd` pasted into a line.
# $(value ...) takes the text as given (on the command line or in the environment), `:=` keeps
# it from being expanded again, and the recipes hand it on as one quoted argument ("$$VAR"),
# which the stacks command checks (tools/stacks/inputs.py) before any use. ENV has no default:
# every target that touches hosts refuses to run without it.
export STACKS_ENV := $(value ENV)
export STACKS_REVISION := $(value REVISION)
export STACKS_DIGEST := $(value DIGEST)
export STACKS_BACKUP_TYPE := $(value TYPE)
export STACKS_RESTORE_AT := $(value AT)
export STACKS_RESTORE_BACKUP := $(value BACKUP)
export STACKS_CONFIRM := $(value CONFIRM)
export STACKS_MAINTENANCE := $(value STATE)
export STACKS_HOST := $(value HOST)
export STACKS_CMD := $(value CMD)
export STACKS_SERVICE := $(value SERVICE)
export STACKS_SINCE := $(value SINCE)
export STACKS_GREP := $(value GREP)
export STACKS_FOLLOW := $(value FOLLOW)
export STACKS_NAME := $(value NAME)
export STACKS_DOMAIN := $(value DOMAIN)
export STACKS_EMAIL := $(value EMAIL)
export STACKS_REPOSITORY := $(value REPOSITORY)
export STACKS_LOGIN := $(value LOGIN)
export STACKS_KEY := $(value KEY)
# make lab ENGINE=compose|swarm (deploy/lab/lab checks it).
export LAB_ENGINE := $(value ENGINE)
# The image: its name (make image IMAGE=...) and the revision it reports at /version (REVISION
# as given, else the git revision), passed the same way.
export STACKS_IMAGE := $(or $(value IMAGE),library)
export STACKS_IMAGE_REVISION := $(or $(value REVISION),$(shell git rev-parse HEAD 2>/dev/null || echo unknown))
unexport ENV REVISION DIGEST TYPE AT BACKUP CONFIRM STATE HOST CMD SERVICE SINCE GREP FOLLOW NAME DOMAIN EMAIL REPOSITORY LOGIN KEY ENGINE IMAGE

# The docker client: each script that runs docker picks it when it runs (tools/offline/docker-client,
# after `make setup` has installed the engine and its client), never make when it reads this
# file, which on a fresh machine is before setup. DOCKER=... in the environment wins.

# The operator's command (tools/stacks), installed into .venv by `make venv`.
STACKS := .venv/bin/stacks

.PHONY: help setup venv lab lab-down run image push-image test test-app test-image test-workflows test-tools test-ansible test-lab lint bench bench-deploy new-env plan deploy rollback unlock backup restore maintenance status logs exec prune

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

# ---- The build and test machine (Debian, root): these install what they need -------------
setup: ## install what the lab, the image and the tests need (Debian packages, uv, Docker engine); idempotent
	tools/setup-machine

lab: setup venv ## make two local Debian hosts and deploy the library to them with site.yml (ENGINE=swarm: as one swarm)
	deploy/lab/lab up

lab-down: setup ## remove everything `make lab` made
	deploy/lab/lab down

image: setup ## build the app image, tagged with the git revision; prints its size
	tools/build-image "$$STACKS_IMAGE" "$$STACKS_IMAGE_REVISION"

push-image: setup ## build the image and push it to REPOSITORY=<registry>/<owner>/library as :<git sha> (docker login first); prints the digest
	tools/push-image "$$STACKS_REPOSITORY" "$$STACKS_IMAGE_REVISION"

lint: setup venv ## ruff, yamllint, ansible-lint, hadolint, actionlint, zizmor, shellcheck
	tools/lint

# make test's phases, in order (tools/test-phases runs and times each, and prints a table).
TEST_PHASES := lint test-app test-image test-workflows test-tools test-ansible test-lab

test: ## every test, from a fresh machine; each phase timed, a table of them at the end
	@tools/test-phases $(TEST_PHASES)

test-app: setup ## app tests against a real PostgreSQL
	tests/app/run

test-image: setup ## build the image and check it running against PostgreSQL
	tests/image/run

test-workflows: setup venv ## the GitHub workflows lint clean and call only what exists in the repository
	.venv/bin/pytest -q tests/workflows

test-tools: setup venv ## the stacks command, tools/ scripts, make run's needs, the pre-commit hooks, the docs
	.venv/bin/pytest -q tests/tools

test-ansible: setup venv ## preflight and syntax checks of every inventory (no host needed)
	.venv/bin/pytest -q tests/ansible

test-lab: setup venv ## end-to-end: lab hosts, site.yml, testinfra, upgrade, failed deploy, a new user's own server
	tests/e2e/run

bench: setup venv ## figures: query counts and latency (app), image size against debian:trixie-slim + python3, HTTP rates through the lab's proxy (after make lab)
	app/bench
	tools/image-size "$$STACKS_IMAGE" "$$STACKS_IMAGE_REVISION"
	.venv/bin/python deploy/lab/bench-http

bench-deploy: setup venv ## deploy figures in the lab (after make lab): phase times, failed and slowest requests under load, no-op site.yml
	deploy/lab/bench-deploy

# ---- Anywhere with Python and uv -------------------------------------------------------
run: ## the app alone on SQLite with demo data at http://127.0.0.1:8000 (needs only uv and Python, no root)
	app/run-dev

venv: ## the operator's virtualenv (.venv: ansible, the stacks command, linters, testinfra); needs only Python and uv
	@command -v uv >/dev/null || { echo "venv: uv is not installed: https://docs.astral.sh/uv/ (or make setup on Debian)" >&2; exit 2; }
	@uv sync --frozen --quiet

# ---- Operations: a controller with Python and uv; no root, no Docker ----------------------
# ENV (a folder of deploy/) and the other inputs are read as plain text at the top of this file.
new-env: venv ## write deploy/NAME/ for one server: NAME=<name> HOST=<address> [DOMAIN=<domain> EMAIL=<acme email>] [REPOSITORY=...] [LOGIN=root] [KEY=~/.ssh/id_ed25519.pub]
	@$(STACKS) new-env --name="$$STACKS_NAME" --host="$$STACKS_HOST" --domain="$$STACKS_DOMAIN" --email="$$STACKS_EMAIL" --repository="$$STACKS_REPOSITORY" --login="$$STACKS_LOGIN" --key="$$STACKS_KEY"

plan: venv ## what a deploy of REVISION=<git sha> to ENV would do, doing nothing ("no changes" when none)
	@$(STACKS) plan --revision="$$STACKS_REVISION" -- "$$STACKS_ENV"

deploy: venv ## ship REVISION=<git sha> [DIGEST=sha256:...] to ENV, start-first, then smoke-check every host
	@$(STACKS) deploy --revision="$$STACKS_REVISION" --digest="$$STACKS_DIGEST" -- "$$STACKS_ENV"

rollback: venv ## every host of ENV back to the release before the one it runs (or REVISION=<sha>), start-first
	@$(STACKS) rollback --revision="$$STACKS_REVISION" -- "$$STACKS_ENV"

unlock: venv ## release ENV's deploy lock, left by a run that died
	@$(STACKS) unlock -- "$$STACKS_ENV"

backup: venv ## a base backup of every database of ENV now (TYPE=incr|diff|full; WAL is archived all the time)
	@$(STACKS) backup --type="$$STACKS_BACKUP_TYPE" -- "$$STACKS_ENV"

restore: venv ## ENV's databases (or HOST's) back to AT="YYYY-MM-DD HH:MM:SS" (UTC), BACKUP=<label> or the latest WAL; says what it would do unless CONFIRM=yes
	@$(STACKS) restore --at="$$STACKS_RESTORE_AT" --backup="$$STACKS_RESTORE_BACKUP" --confirm="$$STACKS_CONFIRM" --host="$$STACKS_HOST" -- "$$STACKS_ENV"

maintenance: venv ## the maintenance page on every host of ENV (STATE=on|off): 503 with Retry-After, health endpoints still answer
	@$(STACKS) maintenance --state="$$STACKS_MAINTENANCE" -- "$$STACKS_ENV"

status: venv ## every host of ENV in one table: revision, image, services' health, disks, deploy lock, last releases
	@$(STACKS) status -- "$$STACKS_ENV"

logs: venv ## ENV's compose logs from every host, prefixed by host [SERVICE=web] [SINCE=10m] [GREP=regex] [FOLLOW=1]
	@$(STACKS) logs --service="$$STACKS_SERVICE" --since="$$STACKS_SINCE" --grep="$$STACKS_GREP" --follow="$$STACKS_FOLLOW" -- "$$STACKS_ENV"

exec: venv ## CMD="manage.py ..." on HOST of ENV, in a one-off container of the running release (stdin passed through)
	@$(STACKS) exec --host="$$STACKS_HOST" --cmd="$$STACKS_CMD" -- "$$STACKS_ENV"

prune: venv ## old images and stopped containers off every host of ENV, keeping what a rollback needs
	@$(STACKS) prune -- "$$STACKS_ENV"
