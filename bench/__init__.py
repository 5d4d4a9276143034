"""Benchmarks: `python -m bench.run` (see docs/benchmarks.md) and `python bench/ann_choice.py`."""
