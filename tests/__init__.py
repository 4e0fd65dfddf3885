"""Tests for the Dexcom Share integration and its Share simulator."""
