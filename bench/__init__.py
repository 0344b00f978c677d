"""Kontor's benchmarks: run with `scripts/bench` (see bench/README.md); not part of the test suite."""
