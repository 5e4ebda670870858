"""Run the host commands of an image build (debootstrap, chroot, tar).

Incus commands do not come here: they go through :mod:`anklume.incus.run`.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Sequence

from anklume.errors import CommandFailed

log = logging.getLogger(__name__)

#: Environment of every build command: no prompts, predictable output.
BUILD_ENV = {
    "DEBIAN_FRONTEND": "noninteractive",
    "DEBCONF_NONINTERACTIVE_SEEN": "true",
    "LC_ALL": "C",
    "LANG": "C",
    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
}


class ImageBuildFailed(CommandFailed):
    """A step of the image build failed."""

    def __init__(self, step: str, argv: Sequence[str], rc: int, output: str) -> None:
        self.step = step
        self.argv = list(argv)
        self.rc = rc
        self.output = output
        tail = " / ".join(output.strip().splitlines()[-5:])
        super().__init__(f"image build step '{step}' failed: '{' '.join(argv)}' exit {rc}: {tail}")


def command(step: str, argv: Sequence[str], *, timeout: float | None = 1800) -> str:
    """Run ``argv`` (a list, no shell) for build ``step``; return its output.

    stdout and stderr are merged so a failure shows the tool's last words.

    >>> command("demo", ["true"])
    ''
    >>> command("demo", ["ls", "/nonexistent"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    anklume.image.command.ImageBuildFailed: image build step 'demo' failed: 'ls /nonexistent' exit 2: ls: ...
    """
    env = {**os.environ, **BUILD_ENV}
    try:
        proc = subprocess.run(
            list(argv),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ImageBuildFailed(step, argv, 127, f"{argv[0]}: command not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise ImageBuildFailed(step, argv, -1, f"timed out after {timeout} s") from exc
    log.debug("build command ran", extra={"image_step": step, "argv": list(argv), "rc": proc.returncode})
    if proc.returncode != 0:
        raise ImageBuildFailed(step, argv, proc.returncode, proc.stdout)
    return proc.stdout
