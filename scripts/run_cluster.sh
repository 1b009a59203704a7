#!/usr/bin/env bash
# Start the cluster (make run-cluster): HAProxy on the public port (5005, where `make run`
# listens), CLUSTER_INSTANCES (2) Rasa servers and action servers on PostgreSQL, Redis and
# optionally RabbitMQ. Settings: deploy/cluster.env (template: deploy/cluster.env.example) or
# the file named by CLUSTER_ENV_FILE; the environment wins over the file. Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python ]]; then
  echo "no virtual environment: run \`make setup\` (make run-cluster does it for you)" >&2
  exit 1
fi
balancer="${CLUSTER_BALANCER:-on}"
if [[ ! "${balancer,,}" =~ ^(0|false|no|off)$ ]]; then
  deploy/install_haproxy.sh
fi
exec .venv/bin/python -m scripts.cluster_supervisor
