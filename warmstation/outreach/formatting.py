"""How a notice becomes each channel's message: a robot's JSON (WeCom markdown or news, DingTalk
markdown or link) or an SMS text. Never cut silently: a notice longer than a channel allows is
split into numbered parts ("（1/2）"), and one too long even for MAX_PARTS parts goes as a link
card to the notice's page, its text starting the card and saying "全文" (the whole text is
behind the link)."""

from __future__ import annotations

from typing import Any

from warmstation.outreach.channels import (
    DINGTALK_MARKDOWN_MAX_BYTES,
    WECOM_MARKDOWN_MAX_BYTES,
)

MAX_PARTS = 3
SMS_TEXT_MAX = 300  # characters; a gateway joins long SMS up to about this
SMS_SIGNATURE = "【暖心驿站】"
LINK_EXCERPT = 120  # characters of the text on a link card


def utf8_len(text: str) -> int:
    return len(text.encode())


def split_bytes(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` UTF-8 bytes, split at line ends where possible and
    never inside a character; joined again they give the text back (line breaks kept)."""
    pieces: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while utf8_len(line) > limit:  # one line longer than a piece: by characters
            head, size = "", 0
            for ch in line:
                if size + utf8_len(ch) > limit:
                    break
                head += ch
                size += utf8_len(ch)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(head)
            line = line[len(head):]
        if utf8_len(current + line) > limit:
            pieces.append(current)
            current = line
        else:
            current += line
    if current or not pieces:
        pieces.append(current)
    return pieces


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= LINK_EXCERPT else flat[:LINK_EXCERPT] + "……（全文见链接）"


def robot_payloads(kind: str, *, label: str, title: str, body: str,
                   link: str) -> list[dict[str, Any]]:
    """The messages to post to a `kind` ("wecom" / "dingtalk") robot for one notice."""
    limit = WECOM_MARKDOWN_MAX_BYTES if kind == "wecom" else DINGTALK_MARKDOWN_MAX_BYTES
    heading = f"【{label}】{title}"

    def markdown(text: str) -> dict[str, Any]:
        if kind == "wecom":
            return {"msgtype": "markdown", "markdown": {"content": text}}
        return {"msgtype": "markdown", "markdown": {"title": heading[:64], "text": text}}

    footer = f"\n\n[查看详情]({link})"
    whole = f"**{heading}**\n\n{body}{footer}"
    if utf8_len(whole) <= limit:
        return [markdown(whole)]
    overhead = utf8_len(f"**{heading}（{MAX_PARTS}/{MAX_PARTS}）**\n\n{footer}")
    parts = split_bytes(body, limit - overhead)
    if len(parts) <= MAX_PARTS:
        n = len(parts)
        return [markdown(f"**{heading}（{i}/{n}）**\n\n{part.strip()}"
                         + (footer if i == n else ""))
                for i, part in enumerate(parts, start=1)]
    if kind == "wecom":
        return [{"msgtype": "news", "news": {"articles": [
            {"title": heading[:128], "description": _excerpt(body), "url": link}]}}]
    return [{"msgtype": "link", "link": {"title": heading[:64], "text": _excerpt(body),
                                         "messageUrl": link}}]


def sms_text(*, title: str, body: str, link: str) -> str:
    """One SMS for a notice: the whole text if it fits, else its start and the link to it."""
    flat = " ".join(body.split())
    whole = f"{SMS_SIGNATURE}{title}：{flat}"
    if len(whole) <= SMS_TEXT_MAX:
        return whole
    tail = f"……全文：{link}"
    room = SMS_TEXT_MAX - len(f"{SMS_SIGNATURE}{title}：") - len(tail)
    return f"{SMS_SIGNATURE}{title}：{flat[:max(room, 0)]}{tail}"
