"""Execution: run a post's code in a fresh kernel, guarded, and keep its outputs in the cache.

The stage's public face: the other stages import these names from here. Its seam is the
`Executor` protocol, whose product is a cache entry (`Entry`).
"""

from .capture import reachable
from .environment import Environment, environment_fingerprint
from .executor import Executor, LocalExecutor, Outcome, Shard
from .guard import Guard, refusal
from .store import Entry, Store, json_digest, outputs_by_cell, outputs_problem, with_outputs
from .volatile import mask, settle

__all__ = [
    "Entry",
    "Environment",
    "Executor",
    "Guard",
    "LocalExecutor",
    "Outcome",
    "Shard",
    "Store",
    "environment_fingerprint",
    "json_digest",
    "mask",
    "outputs_by_cell",
    "outputs_problem",
    "reachable",
    "refusal",
    "settle",
    "with_outputs",
]
