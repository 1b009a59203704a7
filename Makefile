# 联合钱包 customer-service assistant.  `make run` and `make test` do all the set-up.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_VERSION := $(shell cat .python-version)
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/wallet.tar.gz

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONHASHSEED := 0

# Everything the trained model depends on: a change to any of these retrains it.
MODEL_INPUTS := config.yml domain.yml $(shell find data -type f 2>/dev/null) \
	$(wildcard bot/nlu/*.py)

.PHONY: help setup train run shell test test-fast eval lint format lock clean sandbox-reseed outbox tickets

help:
	@echo "make run    set up, train if needed, start the action server and the Rasa server"
	@echo "make test   set up, train if needed, run every test"
	@echo "make train | shell | eval | lint | lock | clean"
	@echo "make sandbox-reseed | outbox | tickets   the sandbox wallet backend"

# --- set-up ---------------------------------------------------------------
$(VENV)/.installed: requirements.lock .python-version
	@scripts/setup_venv.sh "$(PYTHON_VERSION)" "$(VENV)"
	@touch $@

setup: $(VENV)/.installed

lock: setup
	$(VENV)/bin/pip install -r requirements.in
	$(VENV)/bin/pip freeze --exclude-editable | sort > requirements.lock

# --- model ----------------------------------------------------------------
$(MODEL): $(VENV)/.installed $(MODEL_INPUTS)
	$(RASA) train --config config.yml --domain domain.yml --data data \
		--out models --fixed-model-name wallet
	@touch $@

train: $(MODEL)

# --- running --------------------------------------------------------------
run: $(MODEL)
	@scripts/run.sh

shell: $(MODEL)
	$(RASA) shell --model $(MODEL) --endpoints endpoints.yml

# --- the sandbox wallet backend (var/wallet.db) -----------------------------
sandbox-reseed: setup
	$(PY) -m actions.backend.cli reseed

outbox: setup
	$(PY) -m actions.backend.cli outbox

tickets: setup
	$(PY) -m actions.backend.cli tickets

# --- quality --------------------------------------------------------------
test: $(MODEL)
	$(PY) -m pytest

test-fast: $(MODEL)
	$(PY) -m pytest -m "not server"

eval: $(MODEL)
	$(PY) -m scripts.eval_nlu
	$(PY) -m scripts.eval_dialogue

lint: setup
	$(VENV)/bin/ruff check bot actions tests scripts
	$(VENV)/bin/ruff format --check bot actions tests scripts
	$(VENV)/bin/mypy bot actions scripts

format: setup
	$(VENV)/bin/ruff format bot actions tests scripts
	$(VENV)/bin/ruff check --fix bot actions tests scripts

clean:
	rm -rf models/*.tar.gz .rasa .pytest_cache .mypy_cache .ruff_cache .eval-work
