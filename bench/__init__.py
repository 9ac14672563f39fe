"""Benchmarks: speed and memory targets, run with `make bench` (or `make bench-NAME`)."""
