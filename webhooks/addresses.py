"""Where the registry agrees to send a webhook: https only, to public unicast addresses, none of them
an IPv6 form of a private IPv4 address (a URL must not turn the registry into a way in to its own
network: server-side request forgery). Checked at registration and again before every attempt.
Hosts in WEBHOOKS_ALLOW_HTTP_HOSTS (local development and the tests) may use http and be local."""

import dataclasses
import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from registry.services import ServiceError


class UrlRefused(ServiceError):
    """A webhook URL the registry does not send to; the message says why."""


@dataclasses.dataclass(frozen=True)
class Target:
    """A checked URL: what to connect to (one of the host's checked addresses) and what to ask for."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated (RFC 4291); ::1 and :: are in it too
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the well-known prefix, the IPv4 address in the last 32 bits
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: a network's own translators, never public
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _public(ip: Address) -> bool:
    """A unicast address on the public internet (Python's is_global alone lets multicast through, and
    some of its versions the site-local and reserved ranges)."""
    return (ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local or ip.is_loopback
                                  or ip.is_unspecified or getattr(ip, "is_site_local", False)))


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address leads to (a connection to it reaches them), or None for a
    plain IPv6 address: IPv4-mapped, NAT64, 6to4, and Teredo's server and (inverted) client."""
    last_32_bits = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in NAT64:
        return [last_32_bits]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return None


def address_refused(address: str) -> str | None:
    """Why the registry does not connect to `address`, e.g. "a private or local address (10.0.0.5)"
    (None: it may): it is not a public unicast address, or it embeds an IPv4 address that is not one
    (a private network reached through an address that looks public: the metadata service as
    64:ff9b::a9fe:a9fe, 127.0.0.1 as 2002:7f00:1::)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.is_multicast:
        return f"a multicast address ({address})"
    if isinstance(ip, ipaddress.IPv6Address) and (ip in IPV4_COMPATIBLE or ip in NAT64_LOCAL):
        return f"a private or local address ({address})"
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    if embedded is not None:
        private = [inner for inner in embedded if not _public(inner)]
        return f"a private or local address ({address}, which leads to {private[0]})" if private else None
    return None if _public(ip) else f"a private or local address ({address})"


def _allowed_local(host: str) -> bool:
    return host in {name.lower() for name in settings.WEBHOOKS_ALLOW_HTTP_HOSTS}


def url_target(url: str) -> Target:
    """The URL checked, its host resolved and every address of it checked (a host with one private
    address among public ones is refused too). Raises UrlRefused with the reason."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise UrlRefused(f"This URL cannot be read ({error}).") from error
    host = (parts.hostname or "").lower()
    if not host or parts.scheme not in ("https", "http"):
        raise UrlRefused("Enter a full URL that begins with https://, e.g. https://example.com/registry-webhooks.")
    local = _allowed_local(host)
    if parts.scheme != "https" and not local:
        raise UrlRefused("Use an https:// URL: deliveries carry your organization's transfers and are only "
                         "sent encrypted.")
    if parts.username or parts.password:
        raise UrlRefused("Leave the user name and password out of the URL: every delivery is signed with the "
                         "endpoint's secret instead.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UrlRefused(f"The host {host} could not be found; check the URL.") from error
    addresses = list(dict.fromkeys(info[4][0] for info in found))
    for address in addresses:
        refused = None if local else address_refused(address)
        if refused:
            raise UrlRefused(f"{host} is {refused}; the registry only sends to addresses on the public internet.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])
