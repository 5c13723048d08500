"""Where the registry agrees to send a webhook: https only, to addresses on the public internet (a
URL must not turn the registry into a way in to its own network: server-side request forgery).
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
        ip = ipaddress.ip_address(address.split("%")[0])
        ip = getattr(ip, "ipv4_mapped", None) or ip
        if not ip.is_global and not local:
            raise UrlRefused(f"{host} is a private or local address ({address}); the registry only sends to "
                             "addresses on the public internet.")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=parts.scheme, host=host, port=port, path=path, address=addresses[0])
