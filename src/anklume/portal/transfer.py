"""Run one copy: the sending process, the filter, the receiving process.

The sender's stdout is read by the filter, which writes to the receiver's
stdin: nothing is ever stored whole, in memory or on disk. Both processes'
error output goes to unnamed temporary files (read back only when they
fail). A failure on either side, or a refused member, stops both and
leaves nothing at the destination (the receiver keeps nothing without the
end marker).
"""

from __future__ import annotations

import contextlib
import fcntl
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from typing import IO, cast

from anklume.errors import AnklumeError, CommandFailed
from anklume.portal.stream import Filter, Summary, UnsafeStream, Unsealed
from anklume.portal.tarstream import Reader

_PIPE_SIZE = 1 << 20
#: small writes (headers, small files) are gathered up to this size; file data is larger and goes straight
_WRITE_BUFFER = 1 << 17
SENDING, RECEIVING = "sending", "receiving"
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


class TransferFailed(CommandFailed):
    """One side of a copy failed."""

    def __init__(self, side: str, argv: Sequence[str], rc: int, stderr: str) -> None:
        self.side = side
        self.argv = list(argv)
        self.rc = rc
        tail = " / ".join(stderr.strip().splitlines()[-3:]) or "no message"
        super().__init__(f"the {side} side failed (exit {rc}): {tail}; nothing was kept at the destination")


def _widen(pipe: IO[bytes] | None) -> None:
    if pipe is not None:
        with contextlib.suppress(OSError):  # a smaller pipe only costs speed
            fcntl.fcntl(pipe.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)


def _tail(err: IO[bytes]) -> str:
    err.seek(0, 2)
    size = err.tell()
    err.seek(max(0, size - 4000))
    return err.read().decode("utf-8", "replace")


def run(
    send: Sequence[str],
    receive: Sequence[str],
    top: str,
    new_top: str,
    *,
    clear_setid: bool,
    progress: Callable[[Summary], None],
) -> Summary:
    """Stream ``top`` from the ``send`` argv to the ``receive`` argv as ``new_top``; return what crossed."""
    filt = Filter(top, new_top, clear_setid=clear_setid, progress=progress)
    with tempfile.TemporaryFile() as send_err, tempfile.TemporaryFile() as recv_err:
        sender = subprocess.Popen(  # unbuffered: the filter reads the pipe into its own buffer
            list(send), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=send_err, bufsize=0
        )
        receiver = subprocess.Popen(
            list(receive), stdin=subprocess.PIPE, stdout=recv_err, stderr=recv_err, bufsize=_WRITE_BUFFER
        )
        _widen(sender.stdout)
        _widen(receiver.stdin)
        assert sender.stdout is not None and receiver.stdin is not None
        failure: BaseException | None = None
        try:
            filt.run(cast("Reader", sender.stdout), receiver.stdin, lambda: sender.wait() == 0)
        except BaseException as exc:
            failure = exc
            sender.kill()
        with contextlib.suppress(OSError):  # the receiver keeps nothing without the end marker
            receiver.stdin.close()
        send_rc, recv_rc = sender.wait(), receiver.wait()
        sender.stdout.close()
        if isinstance(failure, UnsafeStream | KeyboardInterrupt):
            raise failure
        if failure is None or isinstance(failure, BrokenPipeError):
            if failure is None and send_rc != 0:
                raise TransferFailed(SENDING, send, send_rc, _tail(send_err))
            if recv_rc != 0:
                raise TransferFailed(RECEIVING, receive, recv_rc, _tail(recv_err))
        if failure is not None:
            if send_rc > 0 or isinstance(failure, Unsealed):  # the sender failed first: its words explain
                raise TransferFailed(SENDING, send, send_rc, _tail(send_err))
            if isinstance(failure, AnklumeError):
                raise failure
            msg = f"the copy stopped: {failure}; nothing was kept at the destination"
            raise AnklumeError(msg) from failure
    return filt.summary
