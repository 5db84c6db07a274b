"""Ratio benchmarks (`make bench`): each figure is timed against a plain torch baseline in the same run."""
