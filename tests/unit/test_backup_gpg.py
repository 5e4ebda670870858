"""gpg argv, passphrases and errors; a real gpg round trip in a throwaway GNUPGHOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest

from anklume.backup import gpg, keys
from anklume.errors import UsageError

SECRET = gpg.Secret(b"correct horse")


def test_no_passphrase_ever_reaches_a_command_line() -> None:
    with gpg.passphrase_fd(SECRET) as fd:
        assert fd is not None
        argv = gpg.encrypt_argv("gpg", recipient=None, fd=fd) + gpg.decrypt_argv("gpg", fd=fd)
        assert os.read(fd, 100) == b"correct horse\n"  # the passphrase travels on the pipe
    assert not any("horse" in arg for arg in argv)
    assert argv.count("--no-symkey-cache") == 2  # gpg-agent never remembers it
    assert argv[argv.index("--pinentry-mode") : argv.index("--pinentry-mode") + 2] == ["--pinentry-mode", "loopback"]
    assert "--batch" in argv
    assert argv[argv.index("--compress-algo") + 1] == "none"


def test_recipient_mode_encrypts_to_the_fingerprint_without_a_passphrase() -> None:
    argv = gpg.encrypt_argv("gpg", recipient="A" * 40, fd=None)
    assert argv[argv.index("--recipient") + 1] == "A" * 40
    assert "--symmetric" not in argv
    assert "--passphrase-fd" not in argv
    with pytest.raises(ValueError, match="needs a recipient or a passphrase"):
        gpg.encrypt_argv("gpg", recipient=None, fd=None)


class PassFile(t.NamedTuple):
    test_id: str
    content: bytes
    mode: int
    secret: bytes | None
    shared: bool


PASS_FILES = [
    PassFile("first-line", b"s3cret\nignored\n", 0o600, b"s3cret", False),
    PassFile("crlf", b"s3cret\r\n", 0o600, b"s3cret", False),
    PassFile("readable-by-others", b"s3cret\n", 0o644, b"s3cret", True),
    PassFile("empty", b"", 0o600, None, False),
    PassFile("blank-first-line", b"\ns3cret\n", 0o600, None, False),
]


@pytest.mark.parametrize("case", PASS_FILES, ids=[c.test_id for c in PASS_FILES])
def test_the_passphrase_is_the_first_line_of_its_file(tmp_path: Path, case: PassFile) -> None:
    path = tmp_path / "pass"
    path.write_bytes(case.content)
    path.chmod(case.mode)
    if case.secret is None:
        with pytest.raises(UsageError, match="first line must hold the passphrase"):
            gpg.read_passphrase(path)
        return
    secret, shared = gpg.read_passphrase(path)
    assert (secret.value, shared) == (case.secret, case.shared)
    assert "s3cret" not in repr(secret)


def test_a_missing_passphrase_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="No such file"):
        gpg.read_passphrase(tmp_path / "none")


class Failure(t.NamedTuple):
    test_id: str
    stderr: str
    symmetric: bool
    why: str


FAILURES = [
    Failure("wrong-passphrase", "[GNUPG:] DECRYPTION_FAILED\ngpg: decryption failed: Bad session key", True,
            "wrong passphrase"),
    Failure("no-secret-key", "[GNUPG:] NO_SECKEY ABCD\n[GNUPG:] DECRYPTION_FAILED", False,
            "no secret key for this backup in the keyring (GNUPGHOME or ~/.gnupg)"),
    Failure("untrusted-recipient", "[GNUPG:] INV_RECP 10 ABCD\ngpg: ABCD: skipped: Unusable public key", False,
            "the recipient key is unusable: not trusted (certify it: gpg --lsign-key KEY)"),
    Failure("damaged", "[GNUPG:] DECRYPTION_FAILED\ngpg: decryption failed: invalid packet", False,
            "the encrypted data is damaged (decryption failed: invalid packet)"),
    Failure("unknown", "gpg: something odd\x1b[2J", False, "something odd\\x1b[2J"),
]  # fmt: skip


@pytest.mark.parametrize("case", FAILURES, ids=[c.test_id for c in FAILURES])
def test_gpg_failures_say_why_in_words(case: Failure) -> None:
    error = gpg.failure(["gpg"], 2, case.stderr, symmetric=case.symmetric)
    assert error.why == case.why
    assert error.exit_code == 1


@pytest.mark.parametrize("name", ["--homedir=/x", "", "a\nb", "x" * 300])
def test_key_names_that_could_be_options_or_hide_text_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="invalid gpg key name"):
        keys.check_key_name(name)


@pytest.fixture
def gnupghome(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A throwaway keyring with one key without passphrase (short path: gpg-agent's socket lives there)."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed (Debian: apt-get install gnupg)")
    home = tempfile.mkdtemp(prefix="bku", dir="/tmp")
    monkeypatch.setenv("GNUPGHOME", home)
    try:
        made = subprocess.run(
            ["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key",
             "unit <unit@test.invalid>", "default", "default", "never"],
            capture_output=True, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        yield home
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


def _pipe(argv: list[str], data: bytes, fd: int | None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, input=data, capture_output=True, pass_fds=() if fd is None else (fd,), check=False)


def test_symmetric_round_trip_and_a_wrong_passphrase_right_after_a_good_one(gnupghome: str) -> None:
    with gpg.passphrase_fd(SECRET) as fd:
        sealed = _pipe(gpg.encrypt_argv(gpg.binary(), recipient=None, fd=fd), b"clear data", fd)
    assert sealed.returncode == 0, sealed.stderr
    with gpg.passphrase_fd(SECRET) as fd:
        opened = _pipe(gpg.decrypt_argv(gpg.binary(), fd=fd), sealed.stdout, fd)
    assert opened.stdout == b"clear data"
    with gpg.passphrase_fd(gpg.Secret(b"wrong")) as fd:
        refused = _pipe(gpg.decrypt_argv(gpg.binary(), fd=fd), sealed.stdout, fd)
    assert refused.returncode != 0  # no passphrase cache in gpg-agent
    assert gpg.failure([], refused.returncode, refused.stderr.decode(), symmetric=True).why == "wrong passphrase"


def test_a_recipient_resolves_to_one_key_and_decrypts_with_its_secret_key(gnupghome: str) -> None:
    key = keys.resolve("unit@test.invalid")
    assert len(key.fingerprint) == 40
    assert key.uid == "unit <unit@test.invalid>"
    assert keys.has_secret_key([key.fingerprint])
    assert not keys.has_secret_key(["F" * 40])
    with pytest.raises(UsageError, match="no gpg public key matches"):
        keys.resolve("nobody@test.invalid")
    sealed = _pipe(gpg.encrypt_argv(gpg.binary(), recipient=key.fingerprint, fd=None), b"for the key", None)
    assert sealed.returncode == 0, sealed.stderr
    assert _pipe(gpg.decrypt_argv(gpg.binary(), fd=None), sealed.stdout, None).stdout == b"for the key"


def test_a_file_opened_while_the_passphrase_pipe_is_open_outlives_it() -> None:
    with gpg.passphrase_fd(SECRET):
        stream = tempfile.TemporaryFile()  # takes the number the pipe's write end had  # noqa: SIM115
    with stream:
        stream.write(b"still open")
        stream.seek(0)
        assert stream.read() == b"still open"
