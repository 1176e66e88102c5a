"""The pytest-benchmark suite (see README.md). A package so that its conftest imports as
``benchmarks.conftest`` and never shadows tests/conftest.py, which the tests import by name."""
