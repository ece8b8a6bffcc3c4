"""A Stripe-wire fake for what localstripe lacks: Connect accounts, account links, transfers.

It speaks Stripe's wire format (form-encoded bodies with `a[b]=c` nesting, Stripe-shaped JSON
objects and error bodies, Bearer secret keys) on 127.0.0.1 in a background thread, and it
forwards every other request to an upstream server (localstripe), so one base URL serves the
whole API to the SDK.

In front of everything (its own routes and the forwarded ones) it honours `Idempotency-Key`
as Stripe documents it: the first executed result is saved per (API key, idempotency key);
the same key with the same parameters replays it (header `Idempotent-Replayed: true`); the
same key with other parameters or on another endpoint is a 400 `idempotency_error`; a key
whose first request is still executing is a 409. Results are saved only once an endpoint
started executing: a request refused by validation, or by an injected `fail_next`, saves
nothing, so a retry executes afresh.

Fault injection, per resource (the path segment after /v1/, e.g. "transfers"):
- `fail_next(resource, status=500)`: answer an error before executing (a failure in front of
  the API: nothing created, nothing saved).
- `delay_next(resource, seconds)`: execute and save, then hold the answer; a client with a
  shorter timeout gives up although the object exists.
- `crash_after_next(resource)`: execute and save, then drop the connection without answering
  ("the provider accepted the transfer but the client never got the answer").

Not modelled: key expiry after 24 hours, Stripe-Account headers, transfer reversals, live mode.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import re
import secrets
import socket
import string
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-01-28.clover"
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "content-length"}
_OWN_RESOURCES = {"accounts", "account_links", "transfers"}


class StripeFailure(Exception):
    """A Stripe-shaped error answer."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {k: v for k, v in {
            "type": type, "message": message, "code": code, "param": param,
        }.items() if v is not None}}


def random_id(prefix: str, length: int = 16) -> str:
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding: `metadata[k]=v`, `capabilities[transfers][requested]=true`, `a[0]=x`."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key) or [key]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise StripeFailure(400, f"Invalid object: {key}", code="parameter_invalid", param=key)
            node = child
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value) for key, value in node.items()}
    if converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def sign_payload(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header, computed the way Stripe documents it (HMAC-SHA256 over `t.payload`)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode("utf-8"), b"%d." % timestamp + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _positive_int(params: dict, name: str) -> int:
    raw = params.get(name)
    if raw is None:
        raise StripeFailure(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    if not isinstance(raw, str) or not raw.isdigit() or int(raw) <= 0:
        raise StripeFailure(400, "Invalid positive integer", code="parameter_invalid_integer", param=name)
    return int(raw)


def _required_str(params: dict, name: str) -> str:
    raw = params.get(name)
    if not isinstance(raw, str) or not raw:
        raise StripeFailure(400, f"Missing required param: {name}.", code="parameter_missing", param=name)
    return raw


def _metadata(params: dict) -> dict[str, str]:
    raw = params.get("metadata", {})
    if raw == "":
        return {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise StripeFailure(400, "Invalid metadata", code="parameter_invalid", param="metadata")
    if len(raw) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in raw.items()):
        raise StripeFailure(400, "Metadata exceeds Stripe's limits", code="parameter_invalid", param="metadata")
    return dict(raw)


@dataclass
class _Fault:
    kind: str  # "fail" | "delay" | "crash"
    resource: str
    method: str
    remaining: int
    status: int = 500
    seconds: float = 0
    error_type: str = "api_error"
    code: str | None = None
    message: str = "An unknown error occurred"


@dataclass
class _Saved:
    fingerprint: tuple
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class RequestRecord:
    method: str
    path: str
    idempotency_key: str | None
    outcome: str  # executed | replayed | failed | crashed | conflict | in_flight
    status: int | None = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class StripeWireFake:
    """Start with `.start()` (or as a context manager); `.url` is the SDK's api base."""

    def __init__(self, upstream: str | None = None, *, host: str = "127.0.0.1", port: int = 0):
        self.upstream = upstream.rstrip("/") if upstream else None
        self._address = (host, port)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.available_balance: dict[str, int] | None = None  # None: unlimited; else per lower-case currency
        self._reset_state()

    def _reset_state(self) -> None:
        with self._lock:
            self.accounts: dict[str, dict] = {}
            self.transfers: list[dict] = []
            self.events: list[dict] = []
            self.requests: list[RequestRecord] = []
            self._links: dict[str, dict] = {}
            self._saved: dict[tuple[str, str], _Saved | None] = {}  # None while the first request executes
            self._faults: list[_Fault] = []

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> StripeWireFake:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server(self._address, handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="stripe-wire-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StripeWireFake:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget accounts, transfers, saved keys, faults and the request log (not the upstream's state)."""
        self.available_balance = None
        self._reset_state()

    # --- controls ----------------------------------------------------------------------

    def fail_next(self, resource: str, status: int = 500, *, method: str = "POST", times: int = 1,
                  error_type: str = "api_error", code: str | None = None,
                  message: str = "An unknown error occurred") -> None:
        self._add_fault(_Fault("fail", resource, method, times, status=status, error_type=error_type,
                               code=code, message=message))

    def delay_next(self, resource: str, seconds: float, *, method: str = "POST", times: int = 1) -> None:
        """Execute and save, then hold the answer for `seconds`."""
        self._add_fault(_Fault("delay", resource, method, times, seconds=seconds))

    def crash_after_next(self, resource: str, *, method: str = "POST", times: int = 1) -> None:
        self._add_fault(_Fault("crash", resource, method, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, method: str, resource: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.resource == resource and fault.method == method and fault.remaining > 0:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def complete_onboarding(self, account_id: str) -> dict:
        """What a payee finishing Stripe's hosted onboarding does to their account."""
        with self._lock:
            account = self.accounts[account_id]
            account["details_submitted"] = True
            account["payouts_enabled"] = True
            account["capabilities"] = {name: "active" for name in account["capabilities"]}
            account["charges_enabled"] = account["capabilities"].get("card_payments") == "active"
            account["requirements"] = {"currently_due": [], "eventually_due": [], "past_due": [],
                                       "disabled_reason": None}
            self._emit("account.updated", account)
            return account

    def transfers_in_group(self, transfer_group: str) -> list[dict]:
        with self._lock:
            return [t for t in self.transfers if t["transfer_group"] == transfer_group]

    def requests_to(self, path: str, method: str = "POST") -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == method]

    def signed_event(self, event: dict, secret: str, timestamp: int | None = None) -> tuple[bytes, str]:
        """A webhook body and its Stripe-Signature header, as Stripe would POST them."""
        payload = json.dumps(event, indent=2).encode("utf-8")
        return payload, sign_payload(payload, secret, timestamp)

    def make_event(self, type: str, obj: dict) -> dict:
        return {
            "id": random_id("evt_"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))}, "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "type": type,
        }

    def _emit(self, type: str, obj: dict) -> None:
        self.events.append(self.make_event(type, obj))

    # --- request pipeline ---------------------------------------------------------------

    def handle(self, request: _Handler) -> None:
        split = urlsplit(request.path)
        path = split.path
        method = request.command
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""

        if method == "GET" and path.startswith("/_fake/onboarding/"):
            self._write(request, self._onboarding_visit(path.rsplit("/", 1)[-1]))
            return

        segments = path.strip("/").split("/")
        resource = segments[1] if len(segments) > 1 and segments[0] == "v1" else ""
        key = request.headers.get("Idempotency-Key") if method == "POST" else None
        fault = self._take_fault(method, resource)
        if fault is not None and fault.kind == "fail":
            self._log(method, path, key, "failed", fault.status)
            self._write(request, _json_answer(fault.status, StripeFailure(
                fault.status, fault.message, type=fault.error_type, code=fault.code).body))
            return

        api_key = _bearer(request.headers.get("Authorization"))
        scope = (api_key or "", key) if key else None
        fingerprint: tuple = ()
        if scope is not None:
            fingerprint = (method, path, tuple(sorted(parse_qsl(body.decode("utf-8"), keep_blank_values=True))))
            claimed = self._claim_key(scope, fingerprint)
            if claimed is not None:
                answer, outcome = claimed
                self._finish(request, answer, fault, self._log(method, path, key, outcome, answer.status))
                return

        answer = None
        try:
            answer = self._execute(method, path, split.query, body, request.headers, api_key, resource)
        except Exception as error:  # noqa: BLE001 - a bug in the fake must still answer like Stripe's 500
            answer = _json_answer(500, StripeFailure(500, f"fake failed: {error!r}", type="api_error").body)
        finally:
            if scope is not None:
                self._settle_key(scope, fingerprint, answer)
        self._finish(request, answer, fault, self._log(method, path, key, "executed", answer.status))

    def _claim_key(self, scope: tuple[str, str], fingerprint: tuple) -> tuple[_Answer, str] | None:
        """Replay, refuse, or mark the key as executing (then return None)."""
        with self._lock:
            if scope not in self._saved:
                self._saved[scope] = None
                return None
            saved = self._saved[scope]
            if saved is None:
                return _json_answer(409, StripeFailure(
                    409, "There is currently another in-progress request using this Stripe API key and "
                    "idempotency key. Try again later.", code="idempotency_key_in_use").body), "in_flight"
            if saved.fingerprint != fingerprint:
                return _json_answer(400, StripeFailure(
                    400, f"Keys for idempotent requests can only be used with the same parameters they were "
                    f"first used with. Try using a key other than '{scope[1]}' if you meant to execute a "
                    "different request.", type="idempotency_error").body), "conflict"
            return _Answer(saved.status, {**saved.headers, "Idempotent-Replayed": "true"}, saved.body), "replayed"

    def _settle_key(self, scope: tuple[str, str], fingerprint: tuple, answer: _Answer | None) -> None:
        with self._lock:
            # Stripe saves what an endpoint produced once it started executing: successes, card
            # declines, server errors. Validation refusals and upstream outages save nothing.
            if answer is not None and (answer.status < 400 or answer.status in (402, 500)):
                self._saved[scope] = _Saved(fingerprint, answer.status, dict(answer.headers), answer.body)
            else:
                self._saved.pop(scope, None)

    def _finish(self, request: _Handler, answer: _Answer, fault: _Fault | None, record: RequestRecord) -> None:
        if fault is not None and fault.kind == "crash":
            record.outcome = "crashed"
            request.close_connection = True
            try:
                request.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if fault is not None and fault.kind == "delay":
            self._stopping.wait(fault.seconds)
        self._write(request, answer)

    def _write(self, request: _Handler, answer: _Answer) -> None:
        try:
            request.send_response(answer.status)
            for name, value in answer.headers.items():
                request.send_header(name, value)
            request.send_header("Content-Length", str(len(answer.body)))
            request.end_headers()
            request.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): Stripe would not notice either

    def _log(self, method: str, path: str, key: str | None, outcome: str, status: int) -> RequestRecord:
        record = RequestRecord(method, path, key, outcome, status)
        with self._lock:
            self.requests.append(record)
        return record

    def _execute(self, method, path, query, body, headers, api_key, resource) -> _Answer:
        if resource not in _OWN_RESOURCES:
            return self._forward(method, path, query, body, headers)
        if api_key is None:
            return _json_answer(401, StripeFailure(
                401, "You did not provide an API key, or it is not a secret key.").body)
        try:
            params = decode_form(parse_qsl(body.decode("utf-8") if method == "POST" else query,
                                           keep_blank_values=True))
            with self._lock:
                return _json_answer(200, self._route(method, path, params))
        except StripeFailure as failure:
            return _json_answer(failure.status, failure.body)

    def _route(self, method: str, path: str, params: dict) -> dict:
        match = re.fullmatch(r"/v1/(accounts|account_links|transfers)(?:/([A-Za-z0-9_]+))?", path)
        if match:
            resource, object_id = match.groups()
            if resource == "accounts" and method == "POST" and object_id is None:
                return self._create_account(params)
            if resource == "accounts" and method == "GET" and object_id:
                return self._get(self.accounts, object_id, "account")
            if resource == "accounts" and method == "POST" and object_id:
                return self._update_account(object_id, params)
            if resource == "account_links" and method == "POST" and object_id is None:
                return self._create_account_link(params)
            if resource == "transfers" and method == "POST" and object_id is None:
                return self._create_transfer(params)
            if resource == "transfers" and method == "GET" and object_id is None:
                return self._list_transfers(params)
            if resource == "transfers" and method == "GET" and object_id:
                return self._get({t["id"]: t for t in self.transfers}, object_id, "transfer")
        raise StripeFailure(404, f"Unrecognized request URL ({method}: {path}).")

    @staticmethod
    def _get(objects: dict, object_id: str, noun: str) -> dict:
        if object_id not in objects:
            raise StripeFailure(404, f"No such {noun}: '{object_id}'", code="resource_missing", param="id")
        return objects[object_id]

    # --- accounts ----------------------------------------------------------------------

    def _create_account(self, params: dict) -> dict:
        account_type = params.get("type")
        if account_type not in {"express", "standard", "custom"}:
            raise StripeFailure(400, "Invalid type: must be one of express, standard, custom",
                                code="parameter_invalid", param="type")
        country = str(params.get("country") or "US").upper()
        if not re.fullmatch(r"[A-Z]{2}", country):
            raise StripeFailure(400, f"Country '{country}' is unknown.", code="country_unsupported", param="country")
        capabilities = {name: "inactive" for name, wish in (params.get("capabilities") or {}).items()
                        if isinstance(wish, dict) and _bool(wish.get("requested"))}
        agreement = (params.get("tos_acceptance") or {}).get("service_agreement", "full")
        if agreement not in {"full", "recipient"}:
            raise StripeFailure(400, "Invalid service_agreement", code="parameter_invalid",
                                param="tos_acceptance[service_agreement]")
        if agreement == "recipient" and "card_payments" in capabilities:
            raise StripeFailure(400, "Accounts under the recipient service agreement cannot request "
                                "the card_payments capability.", code="parameter_invalid", param="capabilities")
        account = {
            "id": random_id("acct_"), "object": "account", "type": account_type, "country": country,
            "email": params.get("email"), "business_type": params.get("business_type"),
            "capabilities": capabilities, "charges_enabled": False, "payouts_enabled": False,
            "details_submitted": False, "created": int(time.time()), "metadata": _metadata(params),
            "requirements": {"currently_due": ["external_account", "individual.first_name", "individual.last_name",
                                               "tos_acceptance.date"],
                             "eventually_due": [], "past_due": [], "disabled_reason": "requirements.past_due"},
            "tos_acceptance": {"service_agreement": agreement},
        }
        self.accounts[account["id"]] = account
        return account

    def _update_account(self, account_id: str, params: dict) -> dict:
        account = self._get(self.accounts, account_id, "account")
        if "email" in params:
            account["email"] = params["email"]
        if "metadata" in params:
            account["metadata"].update(_metadata(params))
        self._emit("account.updated", account)
        return account

    def _create_account_link(self, params: dict) -> dict:
        account_id = _required_str(params, "account")
        if account_id not in self.accounts:
            raise StripeFailure(400, f"No such account: '{account_id}'", code="resource_missing", param="account")
        if params.get("type") not in {"account_onboarding", "account_update"}:
            raise StripeFailure(400, "Invalid type", code="parameter_invalid", param="type")
        for name in ("return_url", "refresh_url"):
            if not re.match(r"^https?://", _required_str(params, name)):
                raise StripeFailure(400, f"Not a valid URL: {name}", code="url_invalid", param=name)
        token = secrets.token_urlsafe(12)
        created = int(time.time())
        self._links[token] = {"account": account_id, "return_url": params["return_url"],
                              "refresh_url": params["refresh_url"], "expires_at": created + 300, "used": False}
        return {"object": "account_link", "created": created, "expires_at": created + 300,
                "url": f"{self.url}/_fake/onboarding/{token}"}

    def _onboarding_visit(self, token: str) -> _Answer:
        """The payee opens the link: finish onboarding and go back, or go to refresh_url when spent."""
        with self._lock:
            link = self._links.get(token)
            if link is None:
                return _Answer(404, {"Content-Type": "text/plain"}, b"unknown onboarding link")
            if link["used"] or link["expires_at"] < time.time():
                return _Answer(302, {"Location": link["refresh_url"]}, b"")
            link["used"] = True
            self.complete_onboarding(link["account"])
            return _Answer(302, {"Location": link["return_url"]}, b"")

    # --- transfers ---------------------------------------------------------------------

    def _create_transfer(self, params: dict) -> dict:
        amount = _positive_int(params, "amount")
        currency = _required_str(params, "currency").lower()
        if not re.fullmatch(r"[a-z]{3}", currency):
            raise StripeFailure(400, f"Invalid currency: {currency}", code="parameter_invalid", param="currency")
        destination = _required_str(params, "destination")
        account = self.accounts.get(destination)
        if account is None:
            raise StripeFailure(400, f"No such destination: '{destination}'", code="resource_missing",
                                param="destination")
        if account["capabilities"].get("transfers") != "active":
            raise StripeFailure(400, "Your destination account needs to have at least one of the following "
                                "capabilities enabled: transfers, crypto_transfers, legacy_payments",
                                code="insufficient_capabilities_for_transfer", param="destination")
        metadata = _metadata(params)
        if self.available_balance is not None:
            available = self.available_balance.get(currency, 0)
            if available < amount:
                raise StripeFailure(400, "You have insufficient available funds in your Stripe account.",
                                    code="balance_insufficient")
            self.available_balance[currency] = available - amount
        transfer = {
            "id": random_id("tr_"), "object": "transfer", "amount": amount, "amount_reversed": 0,
            "balance_transaction": random_id("txn_"), "created": int(time.time()), "currency": currency,
            "description": params.get("description"), "destination": destination,
            "destination_payment": random_id("py_"), "livemode": False, "metadata": metadata,
            "reversals": {"object": "list", "data": [], "has_more": False, "total_count": 0, "url": ""},
            "reversed": False, "source_transaction": params.get("source_transaction"), "source_type": "card",
            "transfer_group": params.get("transfer_group"),
        }
        transfer["reversals"]["url"] = f"/v1/transfers/{transfer['id']}/reversals"
        self.transfers.append(transfer)
        self._emit("transfer.created", transfer)
        return transfer

    def _list_transfers(self, params: dict) -> dict:
        limit_raw = params.get("limit", "10")
        if not str(limit_raw).isdigit() or not 1 <= int(limit_raw) <= 100:
            raise StripeFailure(400, "Invalid integer: limit must be between 1 and 100",
                                code="parameter_invalid_integer", param="limit")
        items = list(reversed(self.transfers))  # newest first, like Stripe
        for name in ("transfer_group", "destination"):
            if name in params:
                items = [t for t in items if t[name] == params[name]]
        if "starting_after" in params:
            ids = [t["id"] for t in items]
            if params["starting_after"] not in ids:
                raise StripeFailure(400, f"No such transfer: '{params['starting_after']}'",
                                    code="resource_missing", param="starting_after")
            items = items[ids.index(params["starting_after"]) + 1:]
        page = items[:int(limit_raw)]
        return {"object": "list", "data": page, "has_more": len(items) > len(page), "url": "/v1/transfers"}

    # --- forwarding --------------------------------------------------------------------

    def _forward(self, method, path, query, body, headers) -> _Answer:
        if self.upstream is None:
            return _json_answer(404, StripeFailure(404, f"Unrecognized request URL ({method}: {path}).").body)
        target = urlsplit(self.upstream)
        forwarded = {name: value for name, value in headers.items() if name.lower() not in _HOP_BY_HOP}
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        try:
            connection.request(method, path + (f"?{query}" if query else ""), body=body or None, headers=forwarded)
            response = connection.getresponse()
            payload = response.read()
            kept = {name: value for name, value in response.getheaders()
                    if name.lower() in {"content-type", "request-id", "stripe-version"}}
            return _Answer(response.status, kept, payload)
        except OSError as error:
            return _json_answer(502, StripeFailure(502, f"upstream unreachable: {error}", type="api_error").body)
        finally:
            connection.close()


def _bearer(header: str | None) -> str | None:
    if not header or not header.startswith("Bearer "):
        return None
    key = header[len("Bearer "):].strip()
    return key if key.startswith(("sk_", "rk_")) and len(key) > 8 else None


def _json_answer(status: int, body: dict) -> _Answer:
    return _Answer(status, {"Content-Type": "application/json", "Request-Id": random_id("req_", 14),
                            "Stripe-Version": API_VERSION}, json.dumps(body).encode("utf-8"))


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog of 5 stalls bursts of concurrent payouts


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: a dropped connection is unambiguous
    fake: StripeWireFake

    def do_GET(self) -> None:
        self.fake.handle(self)

    def do_POST(self) -> None:
        self.fake.handle(self)

    def do_DELETE(self) -> None:
        self.fake.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass
