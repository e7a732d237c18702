"""What a ``notification`` step sends, built as KubeVela's step definition builds it. Pure.

KubeVela POSTs each chat message as the JSON of the step's ``message`` property, as
written plus CUE's defaults (DingTalk's ``msgtype`` is ``text`` unless set), with
``Content-Type: application/json``; Slack, DingTalk and Lark get the same treatment.
An email has the sender (``"alias" <address>``), the recipients, the subject and an
HTML body. URLs and passwords come as ``{value: ...}`` or ``{secretRef: {name, key}}``;
``SecretRef`` values are resolved by the caller and never shown.
"""

from __future__ import annotations

import dataclasses
import email.message
import email.utils
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

CHATS = ("dingding", "lark", "slack")


@dataclasses.dataclass(frozen=True)
class SecretRef:
    """A value kept in a Secret of the application's namespace."""

    name: str
    key: str

    def __str__(self) -> str:
        return f"Secret {self.name} key {self.key}"


Secretish = str | SecretRef


@dataclasses.dataclass(frozen=True)
class ChatMessage:
    """One JSON POST to a chat webhook."""

    channel: str
    url: Secretish
    body: bytes


@dataclasses.dataclass(frozen=True)
class Email:
    """One email to send over SMTP."""

    host: str
    port: int
    address: str
    alias: str
    password: Secretish
    to: tuple[str, ...]
    subject: str
    body: str

    def message(self) -> email.message.EmailMessage:
        msg = email.message.EmailMessage()
        sender = email.utils.formataddr((self.alias, self.address)) if self.alias else self.address
        msg["From"] = sender
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = self.subject
        msg.set_content(self.body, subtype="html")
        return msg


def secretish(raw: Mapping[str, Any]) -> Secretish:
    """``{value: x}`` or ``{secretRef: {name, key}}`` (the schema allows only these)."""
    if "value" in raw:
        return str(raw["value"])
    ref = raw["secretRef"]
    return SecretRef(str(ref["name"]), str(ref["key"]))


def chat_messages(properties: Mapping[str, Any]) -> list[ChatMessage]:
    """The chat messages a notification step sends, in KubeVela's order of channels."""
    out: list[ChatMessage] = []
    for channel in CHATS:
        config = properties.get(channel)
        if not isinstance(config, Mapping):
            continue
        message = dict(config["message"])
        if channel == "dingding":
            message.setdefault("msgtype", "text")
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        out.append(ChatMessage(channel, secretish(config["url"]), body))
    return out


def email_of(properties: Mapping[str, Any]) -> Email | None:
    """The email a notification step sends, if it has an ``email`` section."""
    config = properties.get("email")
    if not isinstance(config, Mapping):
        return None
    sender = config["from"]
    content = config["content"]
    return Email(
        host=str(sender["host"]),
        port=int(sender.get("port", 587)),
        address=str(sender["address"]),
        alias=str(sender.get("alias", "")),
        password=secretish(sender["password"]),
        to=tuple(str(t) for t in config["to"]),
        subject=str(content["subject"]),
        body=str(content["body"]),
    )


def shown(url: Secretish) -> str:
    """A URL as messages may show it: scheme and host only (paths hold webhook tokens)."""
    if isinstance(url, SecretRef):
        return f"the URL in {url}"
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the URL given"
    if not parts.scheme or not parts.hostname:
        return "the URL given"
    return f"{parts.scheme}://{parts.hostname}{port}/…"
