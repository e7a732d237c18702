"""The network edge of the workflow: executors that speak HTTP and SMTP.

``notification`` (Slack, DingTalk, Lark: a JSON POST; email: SMTP with STARTTLS when
the server offers it, or TLS on port 465), ``webhook``, ``request``, ``http-get-wait``
and ``http-post``. Values from Secrets come through a ``SecretReader`` (the cluster
edge supplies one); without one such a step fails saying it needs the cluster. URLs are
shown as scheme and host only and passwords never, since both carry credentials.

A connection problem is an error (the runner retries it); a response status that says
the request failed ends the step as failed: ``request`` as KubeVela (status above 400),
the others at 400 and above.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from engine.model.durations import parse_duration
from engine.workflow.executors import StepCall, StepExecutor, StepResult
from engine.workflow.messages import (
    Email,
    Secretish,
    SecretRef,
    chat_messages,
    email_of,
    secretish,
    shown,
)
from engine.workflow.runner import lookup

TIMEOUT = 30.0
JSON = "application/json"


class SecretReader(Protocol):
    """Reads one key of a Secret in a namespace (decoded text); KeyError if absent."""

    def __call__(self, namespace: str, name: str, key: str, /) -> str: ...


class _Unavailable(Exception):
    """A value that cannot be had (message says why, without the value)."""


class _Response:
    def __init__(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


class HttpExecutors:
    """The HTTP and SMTP executors, sharing a Secret reader and a timeout."""

    def __init__(self, secrets: SecretReader | None = None, *, timeout: float = TIMEOUT) -> None:
        self.secrets = secrets
        self.timeout = timeout

    def executors(self) -> dict[str, StepExecutor]:
        return {
            "notification": self.notification,
            "webhook": self.webhook,
            "request": self.request,
            "http-get-wait": self.http_get_wait,
            "http-post": self.http_post,
        }

    # -- steps ------------------------------------------------------------------------

    def notification(self, call: StepCall) -> StepResult:
        """Send every message the step describes; the first problem ends the step."""
        sent: list[str] = []
        for message in chat_messages(call.properties):
            try:
                url = self._resolve(message.url, call)
                response = self._send("POST", url, message.body, {"Content-Type": JSON})
            except _Unavailable as exc:
                return StepResult.failed(f"{message.channel}: {exc}")
            except OSError as exc:
                return StepResult.error(f"{message.channel}: {_reason(exc, message.url)}")
            if response.status >= 400:
                return StepResult.failed(
                    f"{message.channel}: {shown(message.url)} answered {response.status}"
                )
            sent.append(message.channel)
        mail = email_of(call.properties)
        if mail is not None:
            try:
                self._send_email(mail, call)
            except _Unavailable as exc:
                return StepResult.failed(f"email: {exc}")
            except smtplib.SMTPAuthenticationError as exc:
                return StepResult.failed(f"email: {mail.host} refused the login ({exc.smtp_code})")
            except (smtplib.SMTPException, OSError) as exc:
                return StepResult.error(f"email: {mail.host}:{mail.port}: {_smtp_reason(exc)}")
            sent.append("email")
        return StepResult.done(message=f"sent: {', '.join(sent)}" if sent else "nothing to send")

    def webhook(self, call: StepCall) -> StepResult:
        """POST ``data`` (else the Application) as JSON."""
        data = call.properties.get("data")
        if data is None:
            data = call.context.get("application")
            if data is None:
                return StepResult.failed("no data given and the Application is not available")
        target = secretish(call.properties["url"])
        try:
            url = self._resolve(target, call)
            body = json.dumps(data, separators=(",", ":")).encode()
            response = self._send("POST", url, body, {"Content-Type": JSON})
        except _Unavailable as exc:
            return StepResult.failed(str(exc))
        except OSError as exc:
            return StepResult.error(_reason(exc, target))
        if response.status >= 400:
            return StepResult.failed(f"{shown(target)} answered {response.status}")
        return StepResult.done({"statusCode": response.status}, f"posted to {shown(target)}")

    def request(self, call: StepCall) -> StepResult:
        """KubeVela's ``request``: the JSON response body is ``response``."""
        url = str(call.properties["url"])
        method = str(call.properties.get("method", "GET"))
        body = call.properties.get("body")
        headers = dict(call.properties.get("header") or {})
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            response = self._send(method, url, payload, headers)
        except OSError as exc:
            return StepResult.error(_reason(exc, url))
        if response.status > 400:
            return StepResult.failed(f"request of {shown(url)} is fail: {response.status}")
        try:
            parsed = response.json()
        except ValueError:
            return StepResult.error(f"the response of {shown(url)} is not JSON")
        value = {"response": parsed, **_returns(response)}
        return StepResult.done(value, f"{method} {shown(url)}: {response.status}")

    def http_get_wait(self, call: StepCall) -> StepResult:
        """GET until the watched field has the wanted value (or, unwatched, until 2xx)."""
        url = str(call.properties["url"])
        headers = dict(call.properties.get("header") or {})
        interval = parse_duration(str(call.properties.get("interval", "10s")))
        attempts = int(call.properties.get("maxAttempts", 30))
        first = call.state.first_execute if call.state.first_execute is not None else call.now
        if call.now - first >= interval * attempts:
            return StepResult.failed(f"{shown(url)} was not ready after {attempts} attempts")
        try:
            response = self._send("GET", url, None, headers)
        except OSError as exc:
            return StepResult.wait(_reason(exc, url))
        field = call.properties.get("statusField")
        if not 200 <= response.status < 300:
            return StepResult.wait(f"{shown(url)} answered {response.status}")
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text()
        value = {"body": parsed, **_returns(response)}
        if field is None:
            return StepResult.done(value, f"{shown(url)} answered {response.status}")
        try:
            current = lookup(parsed, str(field))
        except KeyError:
            return StepResult.wait(f"the response has no {field}")
        wanted = call.properties.get("successValue")
        if wanted is None or str(current) == str(wanted):
            return StepResult.done(value, f"{field} is {current}")
        return StepResult.wait(f"{field} is {current}, waiting for {wanted}")

    def http_post(self, call: StepCall) -> StepResult:
        """POST once; the status code and body are the step's value."""
        url = str(call.properties["url"])
        headers = {"Content-Type": JSON, **dict(call.properties.get("header") or {})}
        body = json.dumps(call.properties.get("body") or {}, separators=(",", ":")).encode()
        try:
            response = self._send("POST", url, body, headers)
        except OSError as exc:
            return StepResult.error(_reason(exc, url))
        if response.status >= 400:
            return StepResult.failed(f"{shown(url)} answered {response.status}")
        try:
            parsed = response.json()
        except ValueError:
            parsed = response.text()
        return StepResult.done({"body": parsed, **_returns(response)}, f"{response.status}")

    # -- I/O --------------------------------------------------------------------------

    def _resolve(self, value: Secretish, call: StepCall) -> str:
        if not isinstance(value, SecretRef):
            return value
        if self.secrets is None:
            raise _Unavailable(f"reading {value} needs the cluster")
        namespace = str(call.context.get("namespace", "default"))
        try:
            return self.secrets(namespace, value.name, value.key)
        except KeyError:
            raise _Unavailable(f"{value} not found in namespace {namespace}") from None

    def _send(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> _Response:
        if not url.startswith(("http://", "https://")):
            raise _Unsupported(f"only http and https URLs are supported, not {shown(url)}")
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return _Response(answer.status, answer.read(), dict(answer.headers.items()))
        except urllib.error.HTTPError as exc:
            with exc:
                return _Response(exc.code, exc.read(), dict(exc.headers.items()))

    def _send_email(self, mail: Email, call: StepCall) -> None:
        password = self._resolve(mail.password, call)
        context = ssl.create_default_context()
        client: smtplib.SMTP
        if mail.port == 465:
            client = smtplib.SMTP_SSL(mail.host, mail.port, timeout=self.timeout, context=context)
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if mail.port != 465 and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if client.has_extn("auth"):
                client.login(mail.address, password)
            client.send_message(mail.message())


class _Unsupported(OSError):
    """A URL this edge does not fetch (file:, ftp:, ...)."""


def _returns(response: _Response) -> dict[str, Any]:
    return {"statusCode": response.status, "header": response.headers}


def _reason(exc: OSError, url: Secretish) -> str:
    if isinstance(exc, _Unsupported):
        return str(exc)
    if isinstance(exc, urllib.error.URLError):
        why = exc.reason if isinstance(exc.reason, str) else type(exc.reason).__name__
        detail = getattr(exc.reason, "strerror", None) or why
        return f"cannot reach {shown(url)}: {detail}"
    return f"cannot reach {shown(url)}: {exc.strerror or type(exc).__name__}"


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the server answered {exc.smtp_code}"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__
