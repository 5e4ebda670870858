"""anklume doctor on the real host: Incus, nftables and the repository's infra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANKLUME = str(Path(sys.executable).parent / "anklume")


@pytest.mark.incus
def test_doctor_passes_on_a_prepared_host() -> None:
    proc = subprocess.run([ANKLUME, "-C", str(REPO), "doctor"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "daemon" in proc.stdout
    assert "anklume/debian-12" in proc.stdout
