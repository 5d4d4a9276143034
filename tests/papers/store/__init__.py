"""Tests of the storage layer (both backends)."""
