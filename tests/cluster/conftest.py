"""The cluster under test: ``scripts/run_cluster.sh`` itself (scripts/cluster_harness.py), started
once for this directory on this machine's PostgreSQL and RabbitMQ and a private Redis, with
private names everywhere (a database ``wallet_cluster_test_<random>``, dropped afterwards; a
queue of that name; free ports). At the end it is stopped with Ctrl-C (SIGINT), which must leave
no process and no PID file behind.

A service that is missing skips the tests, except with ``CI=true``, where it fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.cluster_harness import PrivateCluster, cleanup, missing_services, start_private_cluster
from tests.servers import IDENTITY_SECRET, REST_TOKEN


@pytest.fixture(scope="package")
def cluster(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrivateCluster]:
    """The whole cluster, once for this directory."""
    missing = missing_services()
    if missing:
        reason = ", ".join(missing) + " (make test installs HAProxy)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"required when CI=true: {reason}")
        pytest.skip(f"unavailable: {reason}")
    workdir = tmp_path_factory.mktemp("cluster")
    running = start_private_cluster(
        workdir, {"REST_CHANNEL_TOKEN": REST_TOKEN, "IDENTITY_SECRET": IDENTITY_SECRET}
    )
    try:
        yield running
    finally:
        alive = cleanup(running)
    assert not alive, f"processes left running after Ctrl-C: {alive}"
    assert "stopped." in running.log.read_text(errors="replace")
    assert not list(running.var_dir.glob("*.pid")), "PID files left behind"
