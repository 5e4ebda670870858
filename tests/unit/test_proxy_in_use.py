"""site.yml runs 'proxy setup' only for an infra that uses the proxy (or used it: to stop it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from anklume.network.nftsafe import table_for
from anklume.proxy.setup import in_use


def test_only_an_infra_with_its_own_proxy_state_is_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANKLUME_PROXY_DIR", str(tmp_path))
    monkeypatch.delenv("ANKLUME_NFT_TABLE", raising=False)
    (tmp_path / "npm").mkdir()  # components shared by every infra of the host: not a use
    (tmp_path / table_for("other")).mkdir()
    assert not in_use("lab")
    (tmp_path / table_for("lab")).mkdir()
    assert in_use("lab")
    monkeypatch.setenv("ANKLUME_NFT_TABLE", "anklume_bench")
    assert not in_use("lab")
