"""Benchmarks: scripts that measure, run by hand (see bench/README.md), never from the tests."""
