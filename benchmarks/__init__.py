"""Benchmarks of eggesture: speed and memory, ratios measured side by side in one run.

See docs/benchmarks.md; ``python -m benchmarks`` runs them all.
"""
