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

.PHONY: help browser setup train run shell test test-fast eval eval-dev lint format lock clean sandbox-reseed outbox tickets wechat-menu wechat-sim telegram-webhook telegram-webhook-info haproxy run-cluster bench-cluster bench review-export

help:
	@echo "make run    set up, train if needed, start the action server and the Rasa server"
	@echo "make test   set up, train if needed, run every test"
	@echo "make train | shell | eval | lint | lock | clean"
	@echo "make sandbox-reseed | outbox | tickets   the sandbox wallet backend"
	@echo "make run-cluster                         several instances behind HAProxy on PostgreSQL and Redis (deploy/cluster.env)"
	@echo "make wechat-menu                         create the WeChat custom menu (WECHAT_* set)"
	@echo "make wechat-sim                          a fake WeChat and a page to chat as a WeChat user"
	@echo "make telegram-webhook URL=https://<host>/webhooks/telegram/webhook   register the Telegram webhook"
	@echo "make bench [BENCH_ARGS='--quick --cluster'] this project against stock Rasa (reports/bench.md)"
	@echo "make review-export [OUT=path]            labelled review messages as NLU YAML (var/review/)"

# --- set-up ---------------------------------------------------------------
$(VENV)/.installed: requirements.lock .python-version
	@scripts/setup_venv.sh "$(PYTHON_VERSION)" "$(VENV)"
	@touch $@

# The pages' browser libraries and the JavaScript linter come from the npm registry (pinned in
# package-lock.json); the Rasa server serves the libraries itself: no page needs an outside host.
NODE := node_modules/.installed
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The widget's socket.io client.
WIDGET_VENDOR := bot/widget/vendor/socket.io.min.js
$(WIDGET_VENDOR): $(NODE)
	mkdir -p bot/widget/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js $@

# The reports' charts: Chart.js.
INSIGHTS_VENDOR := bot/console/static/insights/vendor/chart.umd.min.js
$(INSIGHTS_VENDOR): $(NODE)
	mkdir -p bot/console/static/insights/vendor
	cp node_modules/chart.js/dist/chart.umd.min.js $@

# Everything the pages load from the npm registry.
VENDOR := $(WIDGET_VENDOR) $(INSIGHTS_VENDOR)

# Browser tests drive Debian's Chromium (with a CJK font, or Chinese shows as boxes).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "wqy\|noto.*cjk"; then \
		echo "installing chromium and a CJK font (apt)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	fi

setup: $(VENV)/.installed $(VENDOR)

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
run: $(MODEL) $(VENDOR)
	@scripts/run.sh

shell: $(MODEL)
	$(RASA) shell --model $(MODEL) --endpoints endpoints.yml

# --- several instances ------------------------------------------------------
# The cluster's load balancer (Debian's HAProxy), installed when missing.
haproxy:
	@deploy/install_haproxy.sh

# Several Rasa and action servers behind HAProxy (deploy/cluster.env; template deploy/cluster.env.example).
run-cluster: $(MODEL) $(VENDOR) haproxy
	@scripts/run_cluster.sh

# Throughput, latency and faults of a private cluster: reports/cluster.md.
bench-cluster: $(MODEL) $(VENDOR) haproxy
	$(PY) -m scripts.bench_cluster

# --- the sandbox wallet backend (var/wallet.db) -----------------------------
sandbox-reseed: setup
	$(PY) -m actions.backend.cli reseed

outbox: setup
	$(PY) -m actions.backend.cli outbox

tickets: setup
	$(PY) -m actions.backend.cli tickets

# --- social channels --------------------------------------------------------
# The WeChat Official Account's custom menu (bot/channels/wechat/menu.yml), with the WECHAT_* environment.
wechat-menu: setup
	$(PY) -m bot.channels.wechat menu

# A fake WeChat (API and users) and a page to chat as a WeChat user. It prints the WECHAT_*
# settings for the Rasa server (also in var/wechat_sim.env). e.g. WECHAT_SIM_ARGS="--mode safe"
wechat-sim: setup
	$(PY) -m bot.channels.wechat_sim $(WECHAT_SIM_ARGS)

# Telegram, at deploy time (TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET in the environment).
telegram-webhook: setup
	@test -n "$(URL)" || { echo "usage: make telegram-webhook URL=https://<host>/webhooks/telegram/webhook"; exit 2; }
	$(PY) -m bot.channels.telegram set-webhook --url "$(URL)"

telegram-webhook-info: setup
	$(PY) -m bot.channels.telegram info

# The labelled messages of the review queue as Rasa NLU YAML (masked), never into data/: merge by hand.
review-export: setup
	$(PY) -m bot.insights.cli export $(if $(OUT),--out "$(OUT)")

# --- quality --------------------------------------------------------------
test: $(MODEL) $(VENDOR) browser haproxy
	$(PY) -m pytest

test-fast: $(MODEL)
	$(PY) -m pytest -m "not server"

# This project against stock Rasa (issue 13): reports/bench.md, with the 2-instance cluster
# (PostgreSQL, Redis, HAProxy) when its services are there. BENCH_ARGS="--quick --cluster",
# "--only project", "" (no cluster)
BENCH_ARGS ?= --cluster
bench: $(MODEL) $(VENDOR) haproxy
	$(PY) -m scripts.bench $(BENCH_ARGS)

eval: $(MODEL)
	$(PY) -m scripts.eval_nlu --resume
	$(PY) -m scripts.eval_answers
	$(PY) -m scripts.eval_dialogue

# The development sets (tests/nlu/dev.yml, answers_dev.yml): tune on these, never on the held-out.
eval-dev: $(MODEL)
	$(PY) -m scripts.eval_dev

lint: setup
	$(VENV)/bin/ruff check bot actions tests scripts
	$(VENV)/bin/ruff format --check bot actions tests scripts
	$(VENV)/bin/mypy bot actions scripts
	node_modules/.bin/eslint .

format: setup
	$(VENV)/bin/ruff format bot actions tests scripts
	$(VENV)/bin/ruff check --fix bot actions tests scripts

clean:
	rm -rf models/*.tar.gz .rasa .pytest_cache .mypy_cache .ruff_cache .eval-work
