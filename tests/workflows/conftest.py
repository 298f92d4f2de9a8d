from __future__ import annotations

import local_registry
import pytest


@pytest.fixture
def registry(tmp_path):
    """A throwaway registry on a free loopback port (local_registry.py)."""
    with local_registry.serve(tmp_path) as served:
        yield served
