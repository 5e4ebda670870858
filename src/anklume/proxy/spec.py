"""What the package proxy is: its components, ports, upstream allowlist and the variable roles read.

Pure. The proxy runs on the host, one set of daemons per infra (per host
table), listening only on the gateways of the domains that opt in:

- apt: apt-cacher-ng (Debian), port :data:`APT_PORT`;
- pip: proxpi (PyPI) under gunicorn, port :data:`PIP_PORT`;
- npm: verdaccio (npm registry), port :data:`NPM_PORT`.
"""

from __future__ import annotations

from dataclasses import dataclass

from anklume.engine.resolved import Resolved, ResolvedDomain

APT_PORT = 3142
PIP_PORT = 3141
NPM_PORT = 4873
PORTS = (PIP_PORT, APT_PORT, NPM_PORT)
"""Every port the proxy listens on; the host table opens exactly these to the domains that opt in."""

DEBIAN = "http://deb.debian.org/debian/"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security/"
PYPI = "https://pypi.org/simple/"
NPM = "https://registry.npmjs.org/"
ALLOWLIST = {
    "apt": (DEBIAN, DEBIAN_SECURITY),
    "pip": (PYPI, "https://files.pythonhosted.org/"),
    "npm": (NPM,),
}
"""The only upstreams the proxy fetches from (docs/package-proxy.md)."""

VERDACCIO = "6.8.0"
"""The verdaccio release installed (6.10 wants Node 22; Debian 12 and 13 ship 18 and 20)."""
PIP_PACKAGES = ("proxpi==1.3.1", "gunicorn==27.0.1")


def proxy_var(gateway: str) -> dict[str, str]:
    """The value of ``anklume_package_proxy`` for a domain whose gateway is ``gateway``.

    >>> proxy_var("10.140.0.254")["pip"]
    'http://10.140.0.254:3141/index/'
    """
    return {
        "apt": f"http://{gateway}:{APT_PORT}",
        "pip": f"http://{gateway}:{PIP_PORT}/index/",
        "npm": f"http://{gateway}:{NPM_PORT}/",
    }


def opted_in(resolved: Resolved) -> list[ResolvedDomain]:
    """The enabled domains that use the proxy, by name."""
    return sorted(
        (d for d in resolved.domains.values() if d.package_proxy and d.enabled),
        key=lambda d: d.name,
    )


@dataclass(frozen=True, slots=True)
class ProxyPlan:
    """What one infra's proxy serves: its table (the name of its daemons) and the gateways it binds."""

    table: str
    gateways: tuple[str, ...]
    domains: tuple[str, ...] = ()


def plan(resolved: Resolved, table: str) -> ProxyPlan:
    """The proxy of an infra: empty gateways means no proxy (stop it if it runs)."""
    found = opted_in(resolved)
    return ProxyPlan(table, tuple(d.gateway for d in found), tuple(d.name for d in found))
