"""The fuzz suite (issue 10): strategies for every public op and bad-input class, an
oracle that judges each call, the quick pytest run (test_fuzz.py) and the long runner
with worker processes (run.py). docs/fuzz.md has the figures."""
