"""The keyring as gpg shows it: which public key a name means, whether a secret key is at hand."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from anklume.backup.gpg import BASE, binary
from anklume.errors import UsageError, printable


@dataclass(frozen=True)
class Key:
    """A public key gpg resolved a name to."""

    fingerprint: str
    uid: str


def check_key_name(key: str) -> str:
    """Refuse a key name that could be read as an option or hides control characters.

    >>> check_key_name("backup@example.org")
    'backup@example.org'
    >>> check_key_name("--homedir")
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: invalid gpg key name '--homedir' (a fingerprint, key id or email address)
    """
    if not key or key.startswith("-") or not key.isprintable() or len(key) > 256:
        msg = f"invalid gpg key name {printable(key)!r} (a fingerprint, key id or email address)"
        raise UsageError(msg)
    return key


def resolve(key: str) -> Key:
    """The one public key ``key`` names, able to encrypt; an error naming the candidates otherwise."""
    check_key_name(key)
    proc = subprocess.run(
        [binary(), *BASE, "--with-colons", "--list-keys", "--", key], capture_output=True, text=True, check=False
    )
    keys = parse_keys(proc.stdout)
    if proc.returncode != 0 or not keys:
        msg = f"no gpg public key matches {printable(key)!r} (gpg --list-keys shows the keyring)"
        raise UsageError(msg)
    if len(keys) > 1:
        listed = ", ".join(f"{k.fingerprint} {printable(k.uid)}" for k in keys)
        msg = f"{printable(key)!r} names {len(keys)} keys ({listed}): give a full fingerprint"
        raise UsageError(msg)
    return keys[0]


def parse_keys(colons: str) -> list[Key]:
    """Keys able to encrypt, from ``gpg --with-colons --list-keys`` output.

    >>> out = "pub:u:255:22:K1:1::::::scESC:::\\nfpr:::::::::" + "A" * 40 + ":\\nuid:u::::1::H::Bk <b@x>::::::\\n"
    >>> parse_keys(out)
    [Key(fingerprint='AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', uid='Bk <b@x>')]
    """
    keys: list[Key] = []
    usable, fpr = False, ""
    for line in colons.splitlines():
        fields = line.split(":")
        if fields[0] == "pub":
            usable, fpr = "E" in (fields[11] if len(fields) > 11 else "") and fields[1] not in {"r", "e", "d"}, ""
        elif fields[0] == "fpr" and not fpr and len(fields) > 9:
            fpr = fields[9]
        elif fields[0] == "uid" and usable and fpr and len(fields) > 9 and all(k.fingerprint != fpr for k in keys):
            keys.append(Key(fpr, fields[9]))
    return keys


def has_secret_key(fingerprints: list[str]) -> bool:
    """Say whether the keyring holds the secret key of one of these fingerprints."""
    if not fingerprints:
        return False
    proc = subprocess.run(
        [binary(), *BASE, "--with-colons", "--list-secret-keys", "--", *fingerprints],
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.returncode == 0 and "\nsec:" in "\n" + proc.stdout
