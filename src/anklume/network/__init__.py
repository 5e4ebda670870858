"""Network isolation: the host table ``inet anklume``, the firewall router, and active verification."""
