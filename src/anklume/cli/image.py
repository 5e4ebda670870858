"""``anklume image``: build the offline base image that instances launch from."""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Annotated

import typer

from anklume.cli import _present

app = typer.Typer(
    help="Base images: build the offline Debian image that instances launch from.",
    no_args_is_help=True,
)


class Release(StrEnum):
    """Debian releases the builder supports."""

    bookworm = "bookworm"
    trixie = "trixie"


@app.command("build")
def build(
    release: Annotated[Release, typer.Option("--release", "-r", help="Debian release to build.")] = Release.bookworm,
    alias: Annotated[
        str | None,
        typer.Option(
            "--alias",
            help="Image alias (default: anklume/debian-12 for bookworm, anklume/debian-13 for trixie).",
            show_default=False,
        ),
    ] = None,
    if_missing: Annotated[bool, typer.Option("--if-missing", help="Do nothing when the alias already exists.")] = False,
    mirror: Annotated[
        str | None,
        typer.Option(
            "--mirror",
            help="Debian mirror URL (default: the one apt is configured with on this host).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Build a Debian image with debootstrap and import it into Incus (as root).

    No image server is needed: packages come from the Debian mirror (which
    can be a local one). Building again replaces the alias atomically.

    Examples:

      sudo anklume image build

      sudo anklume image build --if-missing

      sudo anklume image build --release trixie --mirror http://mirror.lan/debian
    """
    from anklume.image import ImageSpec  # noqa: PLC0415 -- keep CLI start fast
    from anklume.image import build as build_image  # noqa: PLC0415 -- keep CLI start fast
    from anklume.image.mirror import configured_mirror  # noqa: PLC0415 -- keep CLI start fast

    start = time.monotonic()
    spec = ImageSpec.make(release.value, alias, mirror or configured_mirror())
    result = build_image(spec, if_missing=if_missing, progress=_present.info)
    seconds = time.monotonic() - start
    if result.skipped:
        return
    replaced = f", replaced {result.replaced[:12]}" if result.replaced else ""
    _present.info(
        f"image {result.alias} ready: fingerprint {result.fingerprint[:12]}, "
        f"{result.size / 2**20:.0f} MiB{replaced}, built in {seconds:.0f} s"
    )
