"""The names of backup files: an archive's name, the manifest beside it, the manifests of a directory.

A backup is ``DOMAIN.MACHINE.STAMP.tar[.EXT][.gpg]`` beside
``DOMAIN.MACHINE.STAMP.manifest.json``; either name leads to the manifest.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from anklume.backup.errors import BackupError
from anklume.errors import UsageError, printable
from anklume.vocab import DEFAULT_BACKUP_DIR

DEFAULT_DIR = Path(DEFAULT_BACKUP_DIR)
"""Where backups go when ``--out``/``--dir`` is not given (root's, outside any infra repository)."""
MANIFEST_SUFFIX = ".manifest.json"
EXTENSIONS = {"zstd": ".tar.zst", "gzip": ".tar.gz", "xz": ".tar.xz", "bzip2": ".tar.bz2", "none": ".tar"}
_ARCHIVE = re.compile(r"^(?P<base>[^/]+?)\.tar(\.[a-z0-9]+)?(\.gpg)?$")


def archive_name(base: str, compression: str, *, encrypted: bool) -> str:
    """The archive's file name.

    >>> archive_name("pro.pro-dev.20261202T130000Z", "zstd", encrypted=True)
    'pro.pro-dev.20261202T130000Z.tar.zst.gpg'
    >>> archive_name("pro.pro-dev.20261202T130000Z", "none", encrypted=False)
    'pro.pro-dev.20261202T130000Z.tar'
    """
    return base + EXTENSIONS[compression] + (".gpg" if encrypted else "")


def manifest_of(path: Path) -> Path:
    """The manifest beside a backup file (the manifest itself, or the one of an archive).

    >>> manifest_of(Path("/b/pro.pro-dev.20261202T130000Z.tar.zst.gpg"))
    PosixPath('/b/pro.pro-dev.20261202T130000Z.manifest.json')
    >>> manifest_of(Path("x.txt"))
    Traceback (most recent call last):
    ...
    anklume.errors.UsageError: x.txt is not a backup file (NAME.tar[.EXT][.gpg] or NAME.manifest.json)
    """
    if path.name.endswith(MANIFEST_SUFFIX):
        return path
    found = _ARCHIVE.match(path.name)
    if not found:
        msg = f"{printable(str(path))} is not a backup file (NAME.tar[.EXT][.gpg] or NAME{MANIFEST_SUFFIX})"
        raise UsageError(msg)
    return path.with_name(found["base"] + MANIFEST_SUFFIX)


def manifests(directory: Path) -> Iterator[Path]:
    """Every manifest of a backup directory, sorted by name (nothing when it does not exist)."""
    try:
        entries = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    except OSError as exc:
        msg = f"backup directory {printable(str(directory))}: {exc.strerror}"
        raise BackupError(msg) from None
    for name in entries:
        if name.endswith(MANIFEST_SUFFIX) and not name.startswith("."):
            yield directory / name
