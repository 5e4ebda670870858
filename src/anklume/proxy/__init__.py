"""The host's package proxy: apt, pip and npm for the domains that opt in (``package_proxy: true``)."""
