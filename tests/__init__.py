"""The test suite (a package: its modules import the shared helpers as .helpers)."""
