"""Fixtures for the featurestore-local tests (helpers in fslocal.py)."""

from __future__ import annotations

import itertools
import re

import pytest

from fslocal import LocalStore


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """One store per test module; tests use their own feature group names."""
    local = LocalStore.start(tmp_path_factory.mktemp("store") / "data")
    yield local
    assert local.stop() == 0, local.log()


@pytest.fixture(autouse=True)
def _no_faults_left(request):
    yield
    if "store" in request.fixturenames:
        request.getfixturevalue("store").set_faults()


_names = itertools.count()


@pytest.fixture
def name(request):
    """A feature group name unique in the session."""
    base = re.sub(r"[^a-zA-Z0-9]", "-", request.node.name)[:40].strip("-")
    return f"{base}-{next(_names)}"


