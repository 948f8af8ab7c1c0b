"""Benchmarks of the relay service against the local stack: python -m benchmarks."""
