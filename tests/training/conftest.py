"""Fixtures for the training tests (the shared ones live in tests/conftest.py)."""

from tests.conftest import SMOLLM2  # noqa: F401
