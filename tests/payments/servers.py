"""Local Stripe-compatible servers for tests, benchmarks and the demo.

- `LocalStripeServer`: localstripe (PyPI) as a subprocess of this interpreter, on 127.0.0.1
  and a free port. localstripe's own `start()` binds every interface and pickles its state
  to a fixed /tmp file after every write (shared by every instance on the machine), so we
  launch its aiohttp app ourselves: loopback only, no pickle, always from scratch.
- `StripeWireFake` (fake_stripe_connect.py): Connect accounts, account links and transfers,
  idempotency keys and fault injection, forwarding everything else to localstripe. Point
  the SDK at the fake's URL only.
- `WebhookInbox`: a loopback HTTP endpoint that records the signed webhooks localstripe POSTs.

    with LocalStripeServer() as localstripe, StripeWireFake(localstripe.url) as wire:
        provider = StripeProvider("sk_test_...", api_base=wire.url, webhook_secret=...)
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.payments.fake_stripe_connect import StripeWireFake, sign_payload

__all__ = ["LocalStripeServer", "StripeWireFake", "WebhookInbox", "free_port", "sign_payload"]

_LAUNCHER = """
import sys
from aiohttp import web
from localstripe import resources, server
resources.Store.dump_to_disk = lambda self: None  # no shared /tmp pickle: state lives in this process only
web.run_app(server.app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripeServer:
    def __init__(self, *, python: str = sys.executable, port: int | None = None):
        self.python = python
        self.port = port
        self._process: subprocess.Popen | None = None
        self._log = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_seconds: int = 30) -> LocalStripeServer:
        for _attempt in range(3):  # a free port can be taken between probing and binding
            self.port = self.port or free_port()
            self._log = tempfile.TemporaryFile()
            self._process = subprocess.Popen([self.python, "-c", _LAUNCHER, str(self.port)],
                                             stdout=self._log, stderr=subprocess.STDOUT)
            if self._wait_until_answering(timeout_seconds):
                return self
            self.stop()
            self.port = None
        raise RuntimeError(f"localstripe did not start: {self.output()}")

    def _wait_until_answering(self, timeout_seconds: int) -> bool:
        deadline = time.monotonic() + timeout_seconds
        probe = urllib.request.Request(f"{self.url}/v1/balance", headers={"Authorization": "Bearer sk_test_probe"})
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(probe, timeout=2):  # noqa: S310 - loopback URL we built
                    return True
            except urllib.error.HTTPError:
                return True  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.1)
        return False

    def output(self) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-4000:]

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> LocalStripeServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- localstripe's configuration endpoints -----------------------------------------

    def register_webhook(self, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
        """localstripe then POSTs each matching event to `url`, signed with `secret` (about 1 s later)."""
        body: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            body["events"] = events
        self._post_json(f"/_config/webhooks/{name}", body)

    def flush(self) -> None:
        """Forget every customer, payment intent, charge... (registered webhooks stay)."""
        request = urllib.request.Request(f"{self.url}/_config/data", method="DELETE")
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback URL we built
            pass

    def _post_json(self, path: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(f"{self.url}{path}", data=json.dumps(body).encode("utf-8"),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310 - loopback URL we built
            pass


class WebhookInbox:
    """Records every POST (body bytes and headers), answering 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._condition = threading.Condition()
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with inbox._condition:
                    inbox.received.append((dict(self.headers.items()), body))
                    inbox._condition.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-inbox", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/stripe"

    def start(self) -> WebhookInbox:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, predicate, timeout_seconds: int = 10) -> tuple[dict[str, str], bytes]:
        """The first delivery whose parsed JSON body satisfies `predicate`."""
        deadline = time.monotonic() + timeout_seconds
        with self._condition:
            while True:
                for headers, body in self.received:
                    if predicate(json.loads(body)):
                        return headers, body
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError("no matching webhook arrived")
                self._condition.wait(remaining)

