"""Benchmarks. Each compares against a baseline measured in the same run and prints ratios;
none of them is part of the test suite's pass/fail."""
