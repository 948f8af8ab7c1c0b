"""Tick sources: pure generators of ticks, separate from Kafka I/O."""
