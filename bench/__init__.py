"""Benchmarks for Kazi Salama: ``python -m bench.<name>`` (see bench/README.md)."""
