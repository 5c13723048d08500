"""One signed POST to a checked address (webhooks.addresses), with the standard library.

The connection goes to the address that was checked, not to a second lookup of the host (which a
hostile DNS server could answer with a private address in between); TLS still verifies the
certificate against the host's name. No redirect is followed: a 3xx is a failed attempt.

An attempt has one deadline for all of it (connecting, the TLS handshake, sending, reading the status,
the headers and the start of the body): a socket's own timeout counts per read, so a receiver dripping
a byte a second would otherwise hold a worker for as long as it likes."""

import dataclasses
import datetime
import email.utils
import http.client
import math
import socket
import ssl
import time

from .addresses import Target

RESPONSE_BYTES_READ = 1024  # a webhook's receiver's answer is not used, a witness's is a few lines: read a little


class DeliveryFailed(Exception):
    """The POST got no answer (the message says why, briefly)."""


class _Deadline:
    """A socket whose every read and write waits at most until `deadline` (time.monotonic())."""

    deadline = math.inf

    def _wait_at_most_the_time_left(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("The attempt's deadline passed.")
        self.settimeout(left)

    def recv(self, *args, **kwargs):
        self._wait_at_most_the_time_left()
        return super().recv(*args, **kwargs)

    def recv_into(self, *args, **kwargs):
        self._wait_at_most_the_time_left()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._wait_at_most_the_time_left()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._wait_at_most_the_time_left()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineSSLSocket(_Deadline, ssl.SSLSocket):
    pass


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, deadline: float):
        super().__init__(target.host, target.port)
        self.target, self.deadline = target, deadline

    def _time_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("The attempt's deadline passed.")
        return left

    def connect(self):
        family = socket.AF_INET6 if ":" in self.target.address else socket.AF_INET
        sock = _DeadlineSocket(family, socket.SOCK_STREAM)
        try:
            sock.deadline = self.deadline
            sock.settimeout(self._time_left())
            sock.connect((self.target.address, self.target.port))
        except BaseException:
            sock.close()
            raise
        self.sock = sock


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    tls = ssl.create_default_context()
    tls.sslsocket_class = _DeadlineSSLSocket

    def connect(self):
        super().connect()
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.target.host,
                                         do_handshake_on_connect=False)
        self.sock.deadline = self.deadline
        self.sock.settimeout(self._time_left())
        self.sock.do_handshake()  # the whole handshake within that time (CPython keeps one deadline for it)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    retry_after: str | None = None  # the Retry-After header, as sent
    body: bytes = b""  # its first RESPONSE_BYTES_READ bytes


def retry_after_seconds(value: str | None, *, now: datetime.datetime) -> float | None:
    """How long a Retry-After header asks to wait (RFC 9110: delay-seconds or an HTTP-date), in
    seconds from `now`; None when there is none, or it cannot be read."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return max(0.0, (moment - now).total_seconds())


def post(target: Target, *, body: bytes, headers: dict[str, str], seconds: float) -> Answer:
    """POST `body` to `target`, all of it within `seconds`; the receiver's answer. Raises
    DeliveryFailed."""
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, time.monotonic() + seconds)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        body = response.read(RESPONSE_BYTES_READ)
        return Answer(status=response.status, retry_after=response.getheader("Retry-After"), body=body)
    except TimeoutError as error:
        raise DeliveryFailed(f"No answer within {seconds:g} s.") from error
    except ssl.SSLError as error:
        raise DeliveryFailed(f"TLS failed: {error.reason or error}.") from error
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"Could not connect: {error.strerror or error}." if isinstance(error, OSError)
                             else f"The answer could not be read: {error!r}.") from error
    finally:
        connection.close()
