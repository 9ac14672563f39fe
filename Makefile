# databot — the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two install stamps: the demo needs the package and its runtime dependencies only; the
# tests, linters and benchmarks add the dev extras on top.
DEMO_INSTALLED := $(VENV)/.demo-installed
INSTALLED := $(VENV)/.installed
# aws-sam-cli pins its own dependencies, so it lives in a venv of its own.
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_CLI_VERSION := 1.170.0
# checkov, the infrastructure scanner, also pins its own dependencies.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
CHECKOV_VERSION := 3.3.30
# The template as deployed with every option on (a customer managed key, versioning, access
# logs, an alarm topic, the X-Ray tracer): linted and scanned as well as the defaults.
TEMPLATE_OPTIONS := .aws-sam/template-options.yaml
TEMPLATE_OPTION_VALUES := KmsKeyArn=arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab \
	EnableBucketVersioning=true AccessLogBucketName=databot-access-logs \
	AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:databot-alarms XRayTracer=Enabled \
	TeamsAppId=00000000-0000-4000-8000-00000000b07d \
	RedshiftClusterIdentifier=analytics IdentityMode=per_user IdentityMap=email_local:db_ \
	IdentityUserPrefix=db_ IdentityDbGroup=analysts MaxQueryCost=1e9 MaxScanRows=100000000 \
	UserDailyBudgetUsd=5 ChannelMonthlyBudgetUsd=200
export SAM_CLI_TELEMETRY := 0
# Wheels of the worker image's requirements, so the image test installs them offline.
WHEELHOUSE := .wheelhouse
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests need: PgBouncer in front of the test PostgreSQL, and
# libseccomp for the sandbox's network filter.
DEB_PACKAGES := pgbouncer libseccomp2
# ... and the benchmarks: GNU time measures peak memory (/usr/bin/time -v).
BENCH_DEB_PACKAGES := time

.PHONY: demo eval test test-repeat lint typecheck template-check system-deps bench-deps bench clean teams-app

$(DEMO_INSTALLED): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(INSTALLED): $(DEMO_INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

system-deps:
	@missing=""; \
	[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null || missing="$$missing pgbouncer"; \
	ldconfig -p | grep -q libseccomp.so.2 || missing="$$missing libseccomp2"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(DEB_PACKAGES) >/dev/null; \
	fi

bench-deps:
	@[ -x /usr/bin/time ] || { echo "installing Debian packages: $(BENCH_DEB_PACKAGES)"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $(BENCH_DEB_PACKAGES) >/dev/null; }

demo: $(DEMO_INSTALLED)
	$(BIN)/python -m executor.demo

# The golden question set (input/eval/questions.yaml) through the offline engine, the verified
# library alone; report.md and report.json go to results/eval (docs/evaluation.md).
eval: $(DEMO_INSTALLED)
	MODEL_PROVIDER=offline $(BIN)/databot eval

lint: $(INSTALLED)
	$(BIN)/ruff check .

typecheck: $(INSTALLED)
	$(BIN)/mypy bot handlers executor

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'

$(WHEELHOUSE)/.complete: requirements/worker.txt pyproject.toml $(INSTALLED)
	$(BIN)/python -m pip download --quiet --dest $(WHEELHOUSE) \
		-r requirements/worker.txt 'setuptools>=68' wheel
	touch $@

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)'

$(TEMPLATE_OPTIONS): template.yaml scripts/template_variant.py
	mkdir -p $(dir $@)
	$(PYTHON) scripts/template_variant.py template.yaml $@ $(TEMPLATE_OPTION_VALUES)

# The SAM template, with its defaults and with every option on: CloudFormation's linter,
# SAM's own validation and checkov's security scan (all offline; suppressions carry their
# reason in each resource's Metadata).
template-check: $(INSTALLED) $(SAM) $(CHECKOV) $(TEMPLATE_OPTIONS)
	for t in template.yaml $(TEMPLATE_OPTIONS); do \
		$(BIN)/cfn-lint $$t; \
		$(SAM) validate --lint --template $$t; \
		$(SAM) validate --template $$t --region us-east-1; \
		$(CHECKOV) --file $$t --framework cloudformation --compact --quiet --skip-download; \
	done

# `sam build` calls these (BuildMethod: makefile): each ingress Lambda gets bot/ and handlers/
# plus only its requirements, as Linux wheels for the Lambda runtime: handlers/requirements.txt,
# or for the Teams front door handlers/teams_requirements.txt (PyJWT; no Slack SDK).
FUNCTION_REQUIREMENTS := handlers/requirements.txt
build-TeamsMessagesFunction: FUNCTION_REQUIREMENTS := handlers/teams_requirements.txt
build-SlackEventsFunction build-PromptApiFunction build-DlqNotifierFunction build-TeamsMessagesFunction:
	@[ -n "$(ARTIFACTS_DIR)" ] || { echo "ARTIFACTS_DIR is unset: run this through sam build"; exit 1; }
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)" --implementation cp \
		--python-version 3.12 --platform manylinux2014_x86_64 --only-binary=:all: \
		-r $(FUNCTION_REQUIREMENTS)
	cp -R bot handlers "$(ARTIFACTS_DIR)/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +

# The Teams app package to upload (docs/deploy.md): teams/manifest.json with the bot's app id
# substituted, and its two icons. `make teams-app TEAMS_APP_ID=<the Entra app id>`.
teams-app:
	$(PYTHON) scripts/teams_app.py teams build/teams-app.zip --app-id "$(TEAMS_APP_ID)"

test: $(INSTALLED) system-deps lint typecheck template-check $(WHEELHOUSE)/.complete
	$(BIN)/pytest

# The integration and end-to-end tests N times in a row (`make test-repeat N=20`): a test
# that passes only most of the time shows up here. Exits non-zero if any run failed.
N ?= 5
test-repeat: $(INSTALLED) system-deps
	@[[ "$(N)" =~ ^[1-9][0-9]*$$ ]] || { echo "N must be a whole number of runs, not '$(N)'"; exit 2; }
	@failed=0; \
	for run in $$(seq 1 $(N)); do \
		started=$$(date +%s); \
		if $(BIN)/pytest tests/integration tests/e2e -q -p no:cacheprovider; then \
			echo "test-repeat: run $$run of $(N) passed in $$(( $$(date +%s) - started )) s"; \
		else \
			failed=$$((failed + 1)); \
			echo "test-repeat: run $$run of $(N) FAILED in $$(( $$(date +%s) - started )) s"; \
		fi; \
	done; \
	echo "test-repeat: $(N) runs, $$failed failed"; \
	[ "$$failed" -eq 0 ]

bench: $(INSTALLED) system-deps bench-deps
	$(BIN)/python -m bench

bench-%: $(INSTALLED) system-deps bench-deps
	$(BIN)/python -m bench $*

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(WHEELHOUSE) build results .pytest_cache .mypy_cache .ruff_cache
