from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Servers, start_servers


@pytest.fixture(scope="session")
def servers(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    running = start_servers(tmp_path_factory.mktemp("servers"), model_path)
    yield running
    running.stop()
