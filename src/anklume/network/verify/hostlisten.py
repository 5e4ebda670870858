"""Listeners on the host's gateway addresses, for domain-to-host probes."""

from __future__ import annotations

import select
import socket
import threading


class HostListeners:
    """Bind ``(address, protocol, port)`` sockets and collect the tokens sent to them until :meth:`stop`."""

    def __init__(self, services: list[tuple[str, str, int]]) -> None:
        self.failed: set[tuple[str, str, int]] = set()
        self._socks: dict[socket.socket, str] = {}
        self._tokens: set[str] = set()
        self._stop = threading.Event()
        for address, proto, port in services:
            kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
            sock = socket.socket(socket.AF_INET, kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((address, port))
                if proto == "tcp":
                    sock.listen(64)
            except OSError:
                self.failed.add((address, proto, port))
                sock.close()
                continue
            self._socks[sock] = proto
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set() and self._socks:
            ready, _, _ = select.select(list(self._socks), [], [], 0.1)
            for sock in ready:
                try:
                    if self._socks[sock] == "udp":
                        self._tokens.add(sock.recvfrom(256)[0].decode(errors="replace"))
                        continue
                    conn, _ = sock.accept()
                    conn.settimeout(1.0)
                    self._tokens.add(conn.recv(256).decode(errors="replace"))
                    conn.close()
                except OSError:
                    continue

    def stop(self) -> set[str]:
        """Stop listening and return the tokens received."""
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self._socks:
            sock.close()
        return set(self._tokens)
