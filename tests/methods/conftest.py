"""A tiny synthetic dataset written once per test session and shared by the method tests."""

from __future__ import annotations

import pytest

from fairmedia.data.synthetic import write_synthetic


@pytest.fixture(scope="session")
def tiny_prepared(tmp_path_factory):
    return write_synthetic(tmp_path_factory.mktemp("tiny"), "representation", n=200, size=16)
