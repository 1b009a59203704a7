"""Developer tooling: evaluation, benchmarks, process management."""
