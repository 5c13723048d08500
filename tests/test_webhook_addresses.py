"""Where the registry sends webhooks: public unicast addresses only. An IPv6 address that leads to an
IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo) is judged by that IPv4 address; IPv4-compatible and
local-use NAT64 addresses are never public; multicast is no receiver. The same check runs at
registration and before every attempt (tests/test_webhooks.py: a host that resolves to one later)."""

import re

import pytest

from webhooks.addresses import UrlRefused, url_target
from webhooks.models import EventType, WebhookEndpoint
from webhooks.services import webhook_endpoint_create


@pytest.fixture(autouse=True)
def no_local_exemption(settings):
    settings.WEBHOOKS_ALLOW_HTTP_HOSTS = []


def url_of(address: str) -> str:
    return f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook"


# Every IPv6 form of an IPv4 address is judged by the IPv4 address it leads to; multicast is no receiver.
REFUSED_ADDRESSES = [
    ("64:ff9b::a9fe:a9fe", "which leads to 169.254.169.254"),  # NAT64 (RFC 6052) of the metadata service
    ("64:ff9b::7f00:1", "which leads to 127.0.0.1"),
    ("64:ff9b::a00:5", "which leads to 10.0.0.5"),
    ("64:ff9b:1::808:808", "private or local"),  # local-use NAT64 (RFC 8215): never public, whatever it embeds
    ("2002:7f00:1::", "which leads to 127.0.0.1"),  # 6to4
    ("2002:a9fe:a9fe::1", "which leads to 169.254.169.254"),
    ("2002:c0a8:101::", "which leads to 192.168.1.1"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "which leads to 127.0.0.1"),  # Teredo: the client, inverted
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "which leads to 192.0.2.45"),
    ("2001:0:a00:1:8000:63bf:f7f7:f7f7", "which leads to 10.0.0.1"),  # Teredo: the server
    ("::127.0.0.1", "private or local"),  # IPv4-compatible (deprecated): refused whatever it embeds
    ("::8.8.8.8", "private or local"),
    ("::ffff:127.0.0.1", "which leads to 127.0.0.1"),  # IPv4-mapped
    ("::ffff:169.254.169.254", "which leads to 169.254.169.254"),
    ("224.0.0.1", "a multicast address"),
    ("239.255.255.250", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("ff0e::1", "a multicast address"),
    ("fec0::1", "private or local"),  # site-local (deprecated)
    ("fe80::1", "private or local"),
    ("fc00::1", "private or local"),
    ("::1", "private or local"),
    ("::", "private or local"),
    ("127.0.0.1", "private or local"),
    ("100.64.0.1", "private or local"),  # carrier-grade NAT
    ("0.0.0.0", "private or local"),
    ("240.0.0.1", "private or local"),
    ("255.255.255.255", "private or local"),
]
PUBLIC_ADDRESSES = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "2a00:1450:4001:82a::200e",
                    "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8", "2001:0:4136:e378:8000:63bf:f7f7:f7f7"]


@pytest.mark.parametrize(("address", "reason"), REFUSED_ADDRESSES)
def test_a_private_multicast_or_embedded_private_address_is_refused_and_says_why(address, reason):
    with pytest.raises(UrlRefused) as refused:
        url_target(url_of(address))
    message = str(refused.value)
    assert re.fullmatch(rf"{re.escape(address)} is a .* \({re.escape(address)}(, .*)?\); the registry only sends "
                        r"to addresses on the public internet\.", message), message
    assert reason in message


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_a_public_address_is_accepted(address):
    assert url_target(url_of(address)).address == address


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::127.0.0.1", "224.0.0.1",
                                     "2001:0:4136:e378:8000:63bf:80ff:fffe"])
def test_a_manager_cannot_register_such_an_address(address, org, manager):
    with pytest.raises(UrlRefused, match="the registry only sends to addresses on the public internet"):
        webhook_endpoint_create(organization=org, user=manager, url=url_of(address),
                                event_types=[EventType.TRANSFER_PENDING])
    assert not WebhookEndpoint.objects.exists()
