"""Execution: run a post's code in a fresh kernel, guarded, and keep its outputs in the cache."""
