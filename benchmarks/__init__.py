"""The pytest-benchmark suite (see README.md), a package like tests/ so that the two
conftest modules import as benchmarks.conftest and tests.conftest."""
