"""One signed POST to a checked address (webhooks.addresses), with the standard library.

The connection goes to the address that was checked, not to a second lookup of the host (which a
hostile DNS server could answer with a private address in between); TLS still verifies the
certificate against the host's name. No redirect is followed: a 3xx is a failed attempt."""

import http.client
import socket
import ssl

from .addresses import Target

RESPONSE_BYTES_READ = 1024  # the body of the receiver's answer is not used; read a little, then close


class DeliveryFailed(Exception):
    """The POST got no answer (the message says why, briefly)."""


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.target = target

    def connect(self):
        self.sock = socket.create_connection((self.target.address, self.target.port), self.timeout)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    tls = ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.target.host)


def post(target: Target, *, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST `body` to `target`; the response's status code. Raises DeliveryFailed."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(RESPONSE_BYTES_READ)
        return response.status
    except TimeoutError as error:
        raise DeliveryFailed(f"No answer within {timeout:g} s.") from error
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS failed: {error.reason or error}.") from error
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"Could not connect: {error.strerror or error}." if isinstance(error, OSError)
                             else f"The answer could not be read: {error!r}.") from error
    finally:
        connection.close()
