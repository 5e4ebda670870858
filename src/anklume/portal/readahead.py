"""Read a pipe ahead in a thread, so that the sender never waits while the filter writes.

The filter reads, hashes and writes in one thread; without read-ahead the
sending side stalls whenever the receiving side is slow, and the reverse.
A thread reads the sender's pipe into at most :data:`DEPTH` chunks of 1 MiB
(memory stays bounded); ``readinto`` hands them out.
"""

from __future__ import annotations

import queue
import threading
from typing import IO

CHUNK = 1 << 20
DEPTH = 8


class ReadAhead:
    """A ``readinto`` reader fed by a thread reading ``raw`` (closed by the caller)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.chunks: queue.Queue[bytes | BaseException] = queue.Queue(DEPTH)
        self.current = memoryview(b"")
        self.done = False
        self.thread = threading.Thread(target=self._pump, name="portal-read-ahead", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        try:
            while True:
                data = self.raw.read(CHUNK)
                self.chunks.put(data)
                if not data:
                    return
        except BaseException as exc:
            self.chunks.put(exc)

    def readinto(self, buffer: memoryview, /) -> int:
        """Copy the next bytes into ``buffer``; 0 at the end of the stream."""
        if not self.current:
            if self.done:
                return 0
            item = self.chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                self.done = True
                return 0
            self.current = memoryview(item)
        n = min(len(buffer), len(self.current))
        buffer[:n] = self.current[:n]
        self.current = self.current[n:]
        return n
