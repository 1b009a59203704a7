#!/usr/bin/env bash
# Install Debian's HAProxy (the cluster's load balancer) when it is missing; idempotent.
# The package's own service is not started: the cluster runs HAProxy with its own
# configuration (var/cluster/haproxy.cfg), in the foreground of scripts/run_cluster.sh.
set -euo pipefail
if command -v haproxy >/dev/null 2>&1; then
  exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
  echo "HAProxy is missing: install it as root (apt-get install haproxy)" >&2
  exit 1
fi
echo "installing haproxy (apt)"
# policy-rc.d exit 101: the package's init script must not start a system-wide HAProxy.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [[ ! -e "${policy}" ]]; then
  printf '#!/bin/sh\nexit 101\n' > "${policy}"
  chmod 755 "${policy}"
  created_policy=1
fi
cleanup() { if [[ "${created_policy}" -eq 1 ]]; then rm -f "${policy}"; fi; }
trap cleanup EXIT
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
haproxy -v | sed -n 1p  # sed reads it all: no SIGPIPE under pipefail
