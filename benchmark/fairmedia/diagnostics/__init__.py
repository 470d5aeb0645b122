"""Diagnostics of where unfairness comes from (docs/diagnostics.md)."""
