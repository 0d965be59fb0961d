"""The simulator's benchmarks: ``python -m benchmarks.sim`` (see ``README.md``)."""
