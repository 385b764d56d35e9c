"""Which IP addresses the crawler may connect to: public unicast only (the SSRF guard's rule).

The rule is applied to the address itself and to any IPv4 address embedded in an IPv6 one,
because a NAT64 gateway (``64:ff9b::/96``), a 6to4 relay (``2002::/16``) or the IPv4-mapped
and IPv4-compatible forms (``::ffff:a.b.c.d``, ``::a.b.c.d``) deliver the packet to that IPv4
address. Refused: private (RFC 1918, carrier-grade NAT, unique-local ``fc00::/7``), loopback
(unless the source is ``local = true``, and then only plain ``127.0.0.0/8``, ``::1`` or their
IPv4-mapped form), link-local (``169.254/16``, ``fe80::/10``), deprecated site-local
``fec0::/10``, the local-use NAT64 prefix ``64:ff9b:1::/48``, Teredo ``2001::/32`` (whose
embedded address is obfuscated), the deprecated IPv4-compatible form ``::a.b.c.d`` whatever
it embeds, multicast, reserved and unspecified addresses.
"""

from __future__ import annotations

import ipaddress

__all__ = ["address_allowed", "embedded_ipv4", "ip_literal"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_TEREDO = ipaddress.ip_network("2001::/32")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def ip_literal(host: str) -> IPAddress | None:
    """``host`` as an IP address when it is one (``[::1]`` and zone ids accepted), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _public(ip: IPAddress) -> bool:
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified)


def address_allowed(address: str, *, allow_loopback: bool = False) -> bool:
    """Whether a connection to IP ``address`` is acceptable (a public unicast address).

    ``allow_loopback`` (sources with ``local = true``) admits 127.0.0.0/8 and ::1, written
    plainly or IPv4-mapped, never through a translation prefix.
    """
    ip = ip_literal(address)
    if ip is None:
        raise ValueError(f"not an IP address: {address!r}")
    if isinstance(ip, ipaddress.IPv4Address):
        if ip.is_loopback:
            return allow_loopback
        return _public(ip)
    if ip.ipv4_mapped is not None:  # the same socket as the IPv4 address
        return address_allowed(str(ip.ipv4_mapped), allow_loopback=allow_loopback)
    if ip.is_loopback:
        return allow_loopback
    if (ip.is_link_local or ip.is_site_local or ip.is_private or ip in _SITE_LOCAL
            or ip in _NAT64_LOCAL or ip in _TEREDO or ip in _IPV4_COMPATIBLE):
        return False
    inner = embedded_ipv4(ip)
    if inner is not None:
        return _public(inner)
    return _public(ip)
