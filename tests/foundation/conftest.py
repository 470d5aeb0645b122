"""Fixtures of the foundation-model tests (defined in foundation_fixtures.py, imported by tests)."""

from foundation_fixtures import _one_thread, tiny_clip, tiny_prepared_2d, tiny_vit  # noqa: F401
