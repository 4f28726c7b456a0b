"""Benchmarks: one module per measurement, run with ``python -m benchmarks <name>``; figures go to docs/PERFORMANCE.md."""
