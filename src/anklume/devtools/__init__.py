"""``anklume dev``: maintainer tools (code graphs, dead code, lint and test wrappers)."""
