"""The suites, in the order ``python -m benchmarks`` runs them (registered in _cli)."""
