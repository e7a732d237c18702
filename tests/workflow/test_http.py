"""Notification, webhook and request steps against real receivers on loopback."""

from __future__ import annotations

import base64
import email
import email.policy
import http.server
import json
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from engine.definitions import Registry
from engine.workflow import StepCall, StepState, advance
from engine.workflow.executors import builtin_executors
from engine.workflow.http import HttpExecutors
from engine.workflow.messages import shown
from tests.workflow.conftest import workflow_plan


class Receiver:
    """An HTTP server on 127.0.0.1 recording requests and answering from a script."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.reply: bytes = b"{}"
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers.items()),
                        "body": body,
                    }
                )
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def json(self, index: int = -1) -> Any:
        return json.loads(self.requests[index]["body"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


class Smtp:
    """A small SMTP receiver on 127.0.0.1 (EHLO, AUTH PLAIN/LOGIN, MAIL, RCPT, DATA)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.logins: list[tuple[str, str]] = []
        smtp = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, line: str) -> None:
                self.wfile.write(line.encode() + b"\r\n")

            def handle(self) -> None:
                self.say("220 loopback ESMTP")
                sender, rcpts = "", []
                while line := self.rfile.readline():
                    text = line.decode().rstrip("\r\n")
                    verb = text.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.say("250-loopback")
                        self.say("250 AUTH PLAIN LOGIN")
                    elif verb == "AUTH":
                        parts = text.split(" ")
                        if parts[1].upper() == "PLAIN":
                            raw = parts[2] if len(parts) > 2 else ""
                            _, user, password = base64.b64decode(raw).decode().split("\0")
                        else:
                            self.say("334 VXNlcm5hbWU6")
                            user = base64.b64decode(self.rfile.readline().strip()).decode()
                            self.say("334 UGFzc3dvcmQ6")
                            password = base64.b64decode(self.rfile.readline().strip()).decode()
                        smtp.logins.append((user, password))
                        self.say("235 ok")
                    elif verb == "MAIL":
                        sender = text.split(":", 1)[1].strip()
                        self.say("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(text.split(":", 1)[1].strip())
                        self.say("250 ok")
                    elif verb == "DATA":
                        self.say("354 go on")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        smtp.messages.append({"from": sender, "to": rcpts, "data": data})
                        self.say("250 queued")
                    elif verb == "QUIT":
                        self.say("221 bye")
                        return
                    else:
                        self.say("250 ok")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    s = Smtp()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()


def call(properties: dict[str, Any], **context: Any) -> StepCall:
    from engine.model import Step

    step = Step("notify", "notification", properties, (), (), ())
    ctx = {"name": "demo", "namespace": "shop", **context}
    return StepCall(step, properties, {}, ctx, StepState("notify", "notification"), 0.0)


def test_slack_dingtalk_and_lark_get_the_message_as_kubevela_posts_it(
    receiver: Receiver,
) -> None:
    props = {
        "slack": {"url": {"value": f"{receiver.url}/slack/T0/B0/tok"}, "message": {"text": "hi"}},
        "dingding": {
            "url": {"value": f"{receiver.url}/ding?access_token=tok"},
            "message": {"text": {"content": "hello"}},
        },
        "lark": {
            "url": {"value": f"{receiver.url}/lark/hook"},
            "message": {"msg_type": "text", "content": '{"text":"hey"}'},
        },
    }
    result = HttpExecutors().notification(call(props))
    assert result.outcome == "done"
    assert result.message == "sent: dingding, lark, slack"
    by_path = {r["path"]: r for r in receiver.requests}
    assert json.loads(by_path["/slack/T0/B0/tok"]["body"]) == {"text": "hi"}
    # DingTalk: msgtype defaults to text, as in KubeVela's definition.
    assert json.loads(by_path["/ding?access_token=tok"]["body"]) == {
        "text": {"content": "hello"},
        "msgtype": "text",
    }
    assert json.loads(by_path["/lark/hook"]["body"]) == {
        "msg_type": "text",
        "content": '{"text":"hey"}',
    }
    assert all(r["method"] == "POST" for r in receiver.requests)
    assert all(r["headers"]["Content-Type"] == "application/json" for r in receiver.requests)


def test_a_secret_url_is_read_through_the_reader_and_never_shown(receiver: Receiver) -> None:
    secret_url = f"{receiver.url}/services/T0/B0/very-secret-token"
    reads: list[tuple[str, str, str]] = []

    def reader(namespace: str, name: str, key: str) -> str:
        reads.append((namespace, name, key))
        return secret_url

    props = {
        "slack": {
            "url": {"secretRef": {"name": "slack", "key": "url"}},
            "message": {"text": "from a secret"},
        }
    }
    assert HttpExecutors(reader).notification(call(props)).outcome == "done"
    assert reads == [("shop", "slack", "url")]
    assert receiver.requests[0]["path"] == "/services/T0/B0/very-secret-token"
    receiver.status = 500
    failed = HttpExecutors(reader).notification(call(props))
    assert failed.outcome == "failed"
    assert "very-secret-token" not in failed.message
    assert failed.message == "slack: the URL in Secret slack key url answered 500"


def test_a_secret_url_without_a_cluster_fails_saying_so() -> None:
    props = {"slack": {"url": {"secretRef": {"name": "s", "key": "k"}}, "message": {"text": "x"}}}
    result = HttpExecutors().notification(call(props))
    assert (result.outcome, result.message) == (
        "failed",
        "slack: reading Secret s key k needs the cluster",
    )


def test_an_unreachable_receiver_is_an_error_without_the_url_path() -> None:
    props = {
        "slack": {"url": {"value": "http://127.0.0.1:9/hook/secret"}, "message": {"text": "x"}}
    }
    result = HttpExecutors(timeout=5).notification(call(props))
    assert result.outcome == "error"
    assert "secret" not in result.message and "http://127.0.0.1:9/…" in result.message


def test_email_goes_over_smtp_with_login(smtp: Smtp) -> None:
    props = {
        "email": {
            "from": {
                "address": "vela@example.com",
                "alias": "KubeVela",
                "password": {"value": "hunter2"},
                "host": "127.0.0.1",
                "port": smtp.port,
            },
            "to": ["ops@example.com", "dev@example.com"],
            "content": {"subject": "demo deployed", "body": "<b>all good</b>"},
        }
    }
    result = HttpExecutors(timeout=5).notification(call(props))
    assert (result.outcome, result.message) == ("done", "sent: email")
    assert smtp.logins == [("vela@example.com", "hunter2")]
    [sent] = smtp.messages
    assert sent["to"] == ["<ops@example.com>", "<dev@example.com>"]
    message = email.message_from_bytes(sent["data"], policy=email.policy.default)
    assert message["From"] == "KubeVela <vela@example.com>"
    assert message["Subject"] == "demo deployed"
    assert message.get_content_type() == "text/html"
    body = message.get_body()
    assert body is not None and "<b>all good</b>" in body.get_content()


def test_email_password_from_a_secret(smtp: Smtp) -> None:
    props = {
        "email": {
            "from": {
                "address": "a@example.com",
                "password": {"secretRef": {"name": "mail", "key": "password"}},
                "host": "127.0.0.1",
                "port": smtp.port,
            },
            "to": ["b@example.com"],
            "content": {"subject": "s", "body": "b"},
        }
    }
    executors = HttpExecutors(lambda ns, name, key: f"{ns}/{name}/{key}-pw", timeout=5)
    assert executors.notification(call(props)).outcome == "done"
    assert smtp.logins == [("a@example.com", "shop/mail/password-pw")]


def test_webhook_posts_data_or_the_application(receiver: Receiver) -> None:
    executors = HttpExecutors()
    url = {"value": f"{receiver.url}/hook"}
    assert executors.webhook(call({"url": url, "data": {"a": 1}})).outcome == "done"
    assert receiver.json() == {"a": 1}
    app = {"kind": "Application", "metadata": {"name": "demo"}}
    assert executors.webhook(call({"url": url}, application=app)).outcome == "done"
    assert receiver.json() == app


def test_request_outputs_the_response_and_fails_above_400(receiver: Receiver) -> None:
    receiver.reply = b'{"stars": 42, "status": {"phase": "ok"}}'
    props = {
        "url": f"{receiver.url}/repo",
        "method": "POST",
        "body": {"q": 1},
        "header": {"X-A": "b"},
    }
    result = HttpExecutors().request(call(props))
    assert result.outcome == "done"
    assert result.value["response"] == {"stars": 42, "status": {"phase": "ok"}}
    assert result.value["statusCode"] == 200
    assert receiver.requests[0]["headers"]["X-A"] == "b"
    assert receiver.json() == {"q": 1}
    receiver.status = 400  # KubeVela fails only above 400
    assert HttpExecutors().request(call(props)).outcome == "done"
    receiver.status = 404
    failed = HttpExecutors().request(call(props))
    assert (failed.outcome, failed.message) == (
        "failed",
        f"request of {shown(props['url'])} is fail: 404",
    )


def test_http_get_wait_polls_until_the_field_matches(receiver: Receiver) -> None:
    props = {
        "url": f"{receiver.url}/job",
        "statusField": "status.phase",
        "successValue": "done",
        "interval": "10s",
        "maxAttempts": 3,
    }
    receiver.reply = b'{"status": {"phase": "running"}}'
    executors = HttpExecutors()
    first = executors.http_get_wait(call(props))
    assert (first.outcome, first.message) == ("wait", "status.phase is running, waiting for done")
    receiver.reply = b'{"status": {"phase": "done"}}'
    ok = executors.http_get_wait(call(props))
    assert ok.outcome == "done" and ok.value["body"] == {"status": {"phase": "done"}}
    late = dataclass_call(call(props), first_execute=0.0, now=30.0)
    assert executors.http_get_wait(late).outcome == "failed"


def dataclass_call(base: StepCall, *, first_execute: float, now: float) -> StepCall:
    import dataclasses

    state = dataclasses.replace(base.state, first_execute=first_execute)
    return dataclasses.replace(base, state=state, now=now)


def test_http_post_outputs_status_and_body(receiver: Receiver) -> None:
    receiver.reply = b'{"id": "job-7"}'
    result = HttpExecutors().http_post(call({"url": f"{receiver.url}/jobs", "body": {"k": "v"}}))
    assert result.outcome == "done" and result.value["body"] == {"id": "job-7"}
    assert receiver.json() == {"k": "v"}


def test_only_http_urls_are_fetched() -> None:
    result = HttpExecutors().request(call({"url": "file:///etc/passwd", "method": "GET"}))
    assert result.outcome == "error"
    assert "only http and https" in result.message


def test_a_workflow_notifies_after_a_failure(registry: Registry, receiver: Receiver) -> None:
    """The whole path: runner, if on a failed step, the Slack message on loopback."""
    plan = workflow_plan(
        f"""
workflow:
  steps:
    - name: check
      type: request
      properties: {{url: "{receiver.url}/health"}}
    - name: alert
      type: notification
      if: status.check.failed
      properties:
        slack:
          url: {{value: "{receiver.url}/alert"}}
          message: {{text: "check failed"}}
""",
        registry,
    )
    receiver.status = 503
    executors = {**builtin_executors(), **HttpExecutors().executors()}
    state = advance(plan, None, executors, now=0.0)
    assert [r["path"] for r in receiver.requests] == ["/health", "/alert"]
    assert receiver.json() == {"text": "check failed"}
    assert state.phase == "failed"
