"""Benchmarks: freshness and Share traffic against Home Assistant's own dexcom integration."""
