"""anklume.image.spec and .mirror: validation, defaults, metadata, mirror discovery."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from anklume.errors import UsageError
from anklume.image import mirror
from anklume.image.spec import PACKAGES, ImageSpec, check_alias, check_mirror, metadata

MIRROR = "http://deb.debian.org/debian"


class Good(NamedTuple):
    test_id: str
    release: str
    alias: str | None
    expected_alias: str


GOOD = [
    Good("bookworm default alias", "bookworm", None, "anklume/debian-12"),
    Good("trixie default alias", "trixie", None, "anklume/debian-13"),
    Good("custom alias", "bookworm", "lab/base.v2", "lab/base.v2"),
]


@pytest.mark.parametrize("case", GOOD, ids=[c.test_id for c in GOOD])
def test_spec_defaults(case: Good) -> None:
    spec = ImageSpec.make(case.release, case.alias, MIRROR)
    assert spec.alias == case.expected_alias
    assert spec.release == case.release


class Bad(NamedTuple):
    test_id: str
    release: str
    alias: str | None
    mirror: str
    message: str


BAD = [
    Bad("unknown release", "sid", None, MIRROR, "unknown release"),
    Bad("release looking like an option", "--foreign", None, MIRROR, "unknown release"),
    Bad("alias starting with a dash", "bookworm", "-x", MIRROR, "invalid image alias"),
    Bad("alias with a space", "bookworm", "a b", MIRROR, "invalid image alias"),
    Bad("alias with uppercase", "bookworm", "Debian", MIRROR, "invalid image alias"),
    Bad("alias with empty part", "bookworm", "a//b", MIRROR, "invalid image alias"),
    Bad("alias with shell characters", "bookworm", "a;rm", MIRROR, "invalid image alias"),
    Bad("mirror without scheme", "bookworm", None, "deb.debian.org/debian", "invalid mirror"),
    Bad("mirror with space", "bookworm", None, "http://a/ b", "invalid mirror"),
    Bad("mirror ftp", "bookworm", None, "ftp://a/debian", "invalid mirror"),
    Bad("mirror with quote", "bookworm", None, "http://a/'x", "invalid mirror"),
]


@pytest.mark.parametrize("case", BAD, ids=[c.test_id for c in BAD])
def test_spec_rejects(case: Bad) -> None:
    with pytest.raises(UsageError, match=case.message) as info:
        ImageSpec.make(case.release, case.alias, case.mirror)
    assert info.value.exit_code == 2


def test_alias_length_is_bounded() -> None:
    assert check_alias("a" * 63) == "a" * 63
    with pytest.raises(UsageError):
        check_alias("a" * 64)


def test_file_mirror_is_accepted() -> None:
    assert check_mirror("file:///srv/mirror/debian") == "file:///srv/mirror/debian"


def test_packages_cover_boot_network_and_ansible() -> None:
    for needed in ("systemd-sysv", "udev", "dbus", "python3", "python3-apt", "nftables", "sudo"):
        assert needed in PACKAGES
    assert len(set(PACKAGES)) == len(PACKAGES)


def test_metadata_fields() -> None:
    spec = ImageSpec.make("trixie", None, MIRROR)
    meta = metadata(spec, architecture="aarch64", created=1234)
    assert meta["architecture"] == "aarch64"
    assert meta["creation_date"] == 1234
    props = meta["properties"]
    assert isinstance(props, dict)
    assert props["os"] == "debian"
    assert props["release"] == "trixie"
    assert "Debian 13" in props["description"]


class Deb822(NamedTuple):
    test_id: str
    text: str
    expected: str | None


DEB822 = [
    Deb822(
        "security stanza first",
        "Types: deb\nURIs: http://s/sec\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://m/debian\nSuites: bookworm\n",
        "http://m/debian",
    ),
    Deb822(
        "comments and several URIs",
        "# main\nTypes: deb deb-src\n# http://old/\nURIs: http://a/debian http://b/debian\nSuites: trixie\n",
        "http://a/debian",
    ),
    Deb822("deb-src only", "Types: deb-src\nURIs: http://m/debian\nSuites: bookworm\n", None),
    Deb822("empty", "", None),
]


@pytest.mark.parametrize("case", DEB822, ids=[c.test_id for c in DEB822])
def test_mirror_from_deb822(case: Deb822) -> None:
    assert mirror.from_deb822(case.text) == case.expected


def test_configured_mirror_prefers_deb822(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://new/debian\nSuites: bookworm\n", encoding="utf-8"
    )
    (tmp_path / "sources.list").write_text("deb http://old/debian bookworm main\n", encoding="utf-8")
    assert mirror.configured_mirror(tmp_path) == "http://new/debian"


def test_configured_mirror_falls_back_to_sources_list(tmp_path: Path) -> None:
    (tmp_path / "sources.list").write_text(
        "deb http://sec/ bookworm-security main\ndeb [signed-by=/k.gpg] http://old/debian bookworm main\n",
        encoding="utf-8",
    )
    assert mirror.configured_mirror(tmp_path) == "http://old/debian"


def test_configured_mirror_defaults_when_nothing_found(tmp_path: Path) -> None:
    assert mirror.configured_mirror(tmp_path) == mirror.DEFAULT_MIRROR
