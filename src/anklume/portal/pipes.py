"""File data from the sender's pipe to the receiver's without copying it through anklume (Linux ``tee(2)``).

``tee`` duplicates what waits in one pipe into another without consuming
it; the filter then reads those same bytes once, to hash them. File data
is thus copied into anklume once (for sha256) instead of twice (read, then
write). Headers are still read, checked and rewritten by the filter. Where
``tee`` is missing, or either side is not a pipe, the filter reads and
writes as before.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Callable
from typing import Any


def _tee_function() -> Callable[..., int] | None:
    try:
        function: Any = ctypes.CDLL(None, use_errno=True).tee
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_uint]
    function.restype = ctypes.c_ssize_t
    return function  # type: ignore[no-any-return]  # a ctypes function


_TEE = _tee_function()


def _pipe_fd(stream: object) -> int | None:
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]  # any file-like object
    except (AttributeError, OSError, ValueError):
        return None
    return fd if isinstance(fd, int) and stat.S_ISFIFO(os.fstat(fd).st_mode) else None


class Tee:
    """``tee(2)`` from one pipe to another: ``tee(n)`` duplicates up to ``n`` waiting bytes."""

    def __init__(self, function: Callable[..., int], in_fd: int, out_fd: int) -> None:
        self.function = function
        self.in_fd = in_fd
        self.out_fd = out_fd

    def __call__(self, size: int) -> int:
        """Wait for data, duplicate up to ``size`` bytes; 0 at the end of the input (EPIPE: the reader quit)."""
        while True:
            done = self.function(self.in_fd, self.out_fd, size, 0)
            if done >= 0:
                return done
            code = ctypes.get_errno()
            if code != errno.EINTR:
                raise OSError(code, os.strerror(code))


def between(source: object, sink: object) -> Tee | None:
    """A :class:`Tee` from ``source`` to ``sink`` when both are pipes and the system has ``tee``."""
    in_fd, out_fd = _pipe_fd(source), _pipe_fd(sink)
    if _TEE is None or in_fd is None or out_fd is None:
        return None
    return Tee(_TEE, in_fd, out_fd)
