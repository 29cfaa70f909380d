"""Benchmark scripts; each prints its figures and writes them to bench/results/."""
