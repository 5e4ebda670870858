"""The sync engine: load → validate → enrich → render → write."""

from __future__ import annotations
