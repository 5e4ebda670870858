"""``anklume backup`` on the real daemon, through the real CLI.

One applied infra (project_name ``anklume-e2e-bk``): domain ``bk1``
(trusted, 10.127.9.0/24) with the containers ``bk1-box`` and ``bk1-two`` and an empty domain
``bk2`` (untrusted, 10.130.9.0/24), both ephemeral, NAT off, their own nft
table. A throwaway GNUPGHOME holds a key made for the run. Two backups of
``bk1-box`` (passphrase and recipient modes) are made once and shared by the
tests; everything is removed at the end, even on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from anklume.incus.run import query as incus_query
from tests.e2e import teardown
from tests.e2e.conftest import IMAGE, E2EInfra, Run

pytestmark = pytest.mark.incus

TABLE = "anklume_e2e_bk"
DOMAINS = ("bk1", "bk2")
BOX = "bk1-box"
DRILL = "restore drill 4f1c\n"
INFRA = """\
project_name: anklume-e2e-bk
global:
  addressing: {{base_octet: 10, zone_base: 126, zone_step: 1}}
  default_os_image: {image}
domains:
  bk1:
    trust_level: trusted
    subnet_id: 9
    nat: false
    ephemeral: true
    machines:
      bk1-box: {{ip: 10.127.9.10}}
      bk1-two: {{}}
  bk2:
    trust_level: untrusted
    subnet_id: 9
    nat: false
    ephemeral: true
"""


class BkInfra(E2EInfra):
    """This module's infra: its own nft table and gpg home."""

    gnupghome: str = ""

    def env(self) -> dict[str, str]:
        """The shared test environment, with this module's table and keyring."""
        env = super().env()
        env["ANKLUME_NFT_TABLE"] = TABLE
        env["GNUPGHOME"] = self.gnupghome
        return env


@dataclass(frozen=True)
class Scene:
    """The applied infra, the backups made of bk1-box and the files the tests use."""

    infra: BkInfra
    root: Path
    out: Path
    passfile: Path
    fingerprint: str
    by_pass: Path
    by_key: Path
    created: Run


def _cleanup() -> None:
    teardown.remove(DOMAINS, bridges=[f"net-{d}" for d in DOMAINS], tables=[TABLE])


def _gpg(home: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GNUPGHOME": home}
    return subprocess.run(["gpg", "--batch", *args], env=env, capture_output=True, text=True, check=False)


def _manifest(run: Run) -> Path:
    """The manifest path that ``backup create`` printed."""
    return Path(run.stdout.rsplit("manifest ", 1)[1].split()[0])


def _archive(manifest: Path) -> Path:
    return manifest.with_name(json.loads(manifest.read_text())["artefacts"][0]["file"])


def pull(project: str, name: str, path: str) -> str:
    """A file's content from an instance (running or not), '' when absent."""
    got = subprocess.run(
        ["incus", "file", "pull", f"{name}{path}", "-", "--project", project], capture_output=True, check=False
    )
    return got.stdout.decode() if got.returncode == 0 else ""


@pytest.fixture(scope="module")
def scene() -> Iterator[Scene]:
    """Apply the infra, write the drill file in bk1-box, back it up in both modes."""
    _cleanup()
    root = Path(tempfile.mkdtemp(prefix="bk-", dir="/tmp"))  # short: gpg-agent's socket lives in GNUPGHOME
    home = root / "g"
    home.mkdir(mode=0o700)
    try:
        made = _gpg(str(home), "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
                    "anklume e2e <bk@e2e.invalid>", "default", "default", "never")  # fmt: skip
        assert made.returncode == 0, made.stderr
        fpr = _gpg(str(home), "--with-colons", "--list-keys", "bk@e2e.invalid").stdout.split("fpr:::::::::")[1][:40]
        infra = BkInfra(root / "infra", root / "data", root / "apply.lock")
        infra.gnupghome = str(home)
        infra.directory.mkdir()
        (infra.directory / "infra.yml").write_text(INFRA.format(image=IMAGE), encoding="utf-8")
        assert infra.anklume("sync").rc == 0
        infra.apply("--no-provision")
        wrote = subprocess.run(["incus", "exec", BOX, "--project", "bk1", "--", "sh", "-c",
                                f"printf '{DRILL}' > /root/drill.txt"], check=False)  # fmt: skip
        assert wrote.returncode == 0
        passfile = root / "pass"
        passfile.write_text("correct horse battery\n")
        passfile.chmod(0o600)
        out = root / "out" / "backups"  # two missing levels: both created private
        by_pass = infra.anklume("backup", "create", BOX, "--passphrase-file", str(passfile), "--out", str(out))
        assert by_pass.rc == 0, by_pass.stderr
        by_key = infra.anklume("backup", "create", BOX, "--gpg-recipient", "bk@e2e.invalid", "--out", str(out))
        assert by_key.rc == 0, by_key.stderr
        yield Scene(infra, root, out, passfile, fpr, _manifest(by_pass), _manifest(by_key), by_pass)
    finally:
        _cleanup()
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env={**os.environ, "GNUPGHOME": str(home)}, check=False)
        shutil.rmtree(root, ignore_errors=True)


def test_backup_files_are_private_and_the_manifest_records_the_instance(scene: Scene) -> None:
    for path in (scene.out, scene.out.parent):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    files = sorted(p.name for p in scene.out.iterdir())
    assert len(files) == 4, files  # two archives, two manifests, no partial file left
    for name in files:
        assert stat.S_IMODE((scene.out / name).stat().st_mode) == 0o600, name
    manifest = json.loads(scene.by_pass.read_text())
    assert manifest["source"]["domain"] == "bk1"
    assert manifest["source"]["project"] == "bk1"
    assert manifest["declaration"] == {"ip": "10.127.9.10"}
    assert manifest["versions"]["incus_server"]
    assert manifest["encryption"]["mode"] == "passphrase"
    archive = _archive(scene.by_pass)
    assert archive.name.endswith(".gpg")  # .tar.zst.gpg where the host has zstd, else .tar.gz.gpg
    assert DRILL.encode() not in archive.read_bytes()  # encrypted: the clear text is not in the file
    keyed = json.loads(scene.by_key.read_text())["encryption"]
    assert keyed == {"mode": "recipient", "cipher": "", "recipients": [scene.fingerprint]}
    listed = scene.infra.anklume("backup", "list", "--dir", str(scene.out), "--json")
    assert listed.rc == 0, listed.stderr
    assert sorted(e["encryption"] for e in json.loads(listed.stdout)) == ["passphrase", "recipient"]


def test_verify_decrypts_in_both_modes_and_skips_without_the_passphrase(scene: Scene) -> None:
    ok = scene.infra.anklume("backup", "verify", str(_archive(scene.by_pass)), "--passphrase-file", str(scene.passfile))
    assert ok.rc == 0, ok.stderr
    assert "ok: sha256, decryption and tar (container bk1-box" in ok.stdout
    keyed = scene.infra.anklume("backup", "verify", str(scene.by_key))
    assert keyed.rc == 0, keyed.stderr
    assert "decryption and tar" in keyed.stdout
    partial = scene.infra.anklume("backup", "verify", str(scene.by_pass))
    assert partial.rc == 0, partial.stderr
    assert "sha256 ok; encrypted with a passphrase: give --passphrase-file" in partial.stdout


def test_a_wrong_passphrase_fails_cleanly(scene: Scene) -> None:
    wrong = scene.root / "wrong"
    wrong.write_text("not the passphrase\n")
    wrong.chmod(0o600)
    failed = scene.infra.anklume("backup", "verify", str(scene.by_pass), "--passphrase-file", str(wrong))
    assert failed.rc == 1
    assert "cannot decrypt: wrong passphrase" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_a_corrupted_archive_fails_verify(scene: Scene) -> None:
    copy = scene.root / "copy"
    copy.mkdir()
    for src in (scene.by_pass, _archive(scene.by_pass)):
        shutil.copy(src, copy / src.name)
    damaged = copy / _archive(scene.by_pass).name
    with damaged.open("r+b") as stream:
        stream.seek(damaged.stat().st_size // 2)
        byte = stream.read(1)
        stream.seek(-1, 1)
        stream.write(bytes([byte[0] ^ 0xFF]))
    failed = scene.infra.anklume("backup", "verify", str(damaged), "--passphrase-file", str(scene.passfile))
    assert failed.rc == 1
    assert "sha256 differs from the manifest's: the archive is damaged" in failed.stderr
    refused = scene.infra.anklume("backup", "restore", str(damaged), "--name", "bk1-bad", "--passphrase-file",
                                  str(scene.passfile))  # fmt: skip
    assert refused.rc == 1
    assert "bk1-bad" not in teardown.names(["list", "--project", "bk1"])


def test_a_domain_backup_covers_each_of_its_machines(scene: Scene) -> None:
    out = scene.root / "plain"
    made = scene.infra.anklume("backup", "create", "--domain", "bk1", "--no-encrypt", "--out", str(out))
    assert made.rc == 0, made.stderr
    manifests = [Path(part.split()[0]) for part in made.stdout.split("manifest ")[1:]]
    assert sorted(json.loads(m.read_text())["source"]["machine"] for m in manifests) == ["bk1-box", "bk1-two"]
    for manifest in manifests:
        assert json.loads(manifest.read_text())["encryption"]["mode"] == "none"
        verified = scene.infra.anklume("backup", "verify", str(manifest))
        assert verified.rc == 0, verified.stdout + verified.stderr
        assert "ok: sha256 and tar (container bk1-" in verified.stdout, verified.stdout


def test_restore_drill_refusals_and_copies(scene: Scene) -> None:
    pw = ("--passphrase-file", str(scene.passfile))
    exists = scene.infra.anklume("backup", "restore", str(scene.by_pass), *pw)
    assert exists.rc == 1
    assert "already exists in project bk1: add --replace" in exists.stderr
    subprocess.run(["incus", "config", "set", BOX, "security.protection.delete=true", "--project", "bk1"], check=True)
    protected = scene.infra.anklume("backup", "restore", str(scene.by_pass), "--replace", *pw)
    subprocess.run(["incus", "config", "set", BOX, "security.protection.delete=false", "--project", "bk1"], check=True)
    assert protected.rc == 1
    assert "is protected (ephemeral: false) and anklume never deletes a protected instance" in protected.stderr
    assert incus_query(["query", f"/1.0/instances/{BOX}?project=bk1"])["status"] == "Running"
    # the drill: the instance is lost, the backup brings its data back
    subprocess.run(["incus", "delete", "--force", BOX, "--project", "bk1"], check=True)
    back = scene.infra.anklume("backup", "restore", str(scene.by_pass), *pw, "--start")
    assert back.rc == 0, back.stderr
    assert pull("bk1", BOX, "/root/drill.txt") == DRILL
    live = incus_query(["query", f"/1.0/instances/{BOX}?project=bk1"])
    assert live["status"] == "Running"
    assert live["devices"]["eth0"]["ipv4.address"] == "10.127.9.10"  # the same machine: its own address
    # a copy in another domain from the recipient-mode backup: its data, a new identity, bk2's bridge
    copy = scene.infra.anklume(
        "backup", "restore", str(_archive(scene.by_key)), "--domain", "bk2", "--name", "bk2-copy"
    )
    assert copy.rc == 0, copy.stderr
    assert "restoring a backup" not in copy.stderr  # trusted into untrusted: no warning
    assert pull("bk2", "bk2-copy", "/root/drill.txt") == DRILL
    made = incus_query(["query", "/1.0/instances/bk2-copy?project=bk2"])
    assert made["devices"]["eth0"]["network"] == "net-bk2"
    assert "ipv4.address" not in made["devices"]["eth0"]
    mac = made["config"].get("volatile.eth0.hwaddr")  # unset by restore; Incus may draw a new one
    assert mac != live["config"]["volatile.eth0.hwaddr"]  # never the original's
    assert "user.anklume.managed" not in made["config"]
    with contextlib.suppress(subprocess.CalledProcessError):
        subprocess.run(["incus", "delete", "--force", "bk2-copy", "--project", "bk2"], check=True)
    # --replace: the running instance, with other data by now, becomes the backup's state again
    later = ["incus", "exec", BOX, "--project", "bk1", "--", "sh", "-c", "echo later > /root/drill.txt"]
    subprocess.run(later, check=True)
    replaced = scene.infra.anklume("backup", "restore", str(scene.by_pass), "--replace", *pw)
    assert replaced.rc == 0, replaced.stderr
    assert pull("bk1", BOX, "/root/drill.txt") == DRILL
