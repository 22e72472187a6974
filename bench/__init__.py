"""Benchmarks: ``python -m bench NAME`` prints ``name: value`` lines; bench/RESULTS.md records them."""
