"""Benchmarks of the generated connector and of baking the template (see docs/benchmarks.md)."""
