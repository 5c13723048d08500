"""A real HTTP receiver on 127.0.0.1 for the webhook tests: records every request, answers with the
codes it is given in turn (then 200); an answer may be (code, {header: value})."""

import http.server
import socket
import ssl
import threading
import time


class Receiver:
    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int | tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                answer = receiver.answers.pop(0) if receiver.answers else 200
                code, headers = answer if isinstance(answer, tuple) else (answer, {})
                self.send_response(code)
                for name, value in headers.items():
                    self.send_header(name, value)
                if 300 <= code < 400:
                    self.send_header("Location", "http://203.0.113.9/elsewhere")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/registry-hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class DrippingReceiver:
    """A receiver on 127.0.0.1 that reads the request, then answers one byte every `interval` seconds
    for `seconds` (a status line and headers that never end), then hangs up: what holds a worker whose
    timeout counts per read. `connections` counts the requests taken; `open` those still dripping."""

    def __init__(self, *, interval: float = 0.2, seconds: float = 120, tls: ssl.SSLContext | None = None):
        self.interval, self.seconds, self.tls = interval, seconds, tls
        self.connections = 0
        self.open = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.listener.getsockname()[1]}/slow-hook"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(client,), daemon=True).start()

    def _drip(self, client: socket.socket):
        with self.lock:
            self.connections += 1
            self.open += 1
        try:
            client.settimeout(5)
            if self.tls:
                client = self.tls.wrap_socket(client, server_side=True)
            request = b""
            while b"\r\n\r\n" not in request:  # the headers; the body follows, unread
                chunk = client.recv(65536)
                if not chunk:
                    return
                request += chunk
            answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
            ends_at = time.monotonic() + self.seconds
            for byte in answer:
                if self.stopping.wait(self.interval) or time.monotonic() > ends_at:
                    return
                client.sendall(bytes([byte]))
        except OSError:
            return
        finally:
            with self.lock:
                self.open -= 1
            client.close()

    def stop(self):
        self.stopping.set()
        self.listener.close()


def self_signed_tls(tmp_path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for 127.0.0.1, and a client context that trusts only it."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "receiver.pem", tmp_path / "receiver.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client
