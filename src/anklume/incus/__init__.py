"""Access to Incus: every incus command goes through :mod:`anklume.incus.run`.

Use it as ``from anklume import incus`` then ``incus.run([...])`` or
``incus.query([...])``. The function ``run`` re-exported here hides the
module of the same name as a package attribute; reach the module itself
(e.g. to monkeypatch it) with ``importlib.import_module("anklume.incus.run")``.
"""

from __future__ import annotations

from anklume.incus.run import available, binary, query, run

__all__ = ["available", "binary", "query", "run"]
