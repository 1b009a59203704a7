"""Loader of the shared bad-input corpus (tests/fixtures/bad_inputs.yml), and the WeChat
webhook's bad requests (built: they must be signed at the time of the test)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

_PATH = Path(__file__).parent / "fixtures" / "bad_inputs.yml"


def _expand(value: Any) -> Any:
    if isinstance(value, dict) and "raw_hex" in value:  # bytes that are not valid UTF-8 text
        return {
            **{k: v for k, v in value.items() if k != "raw_hex"},
            "raw": bytes.fromhex(value["raw_hex"].replace(" ", "")),
        }
    if isinstance(value, dict) and set(value) == {"repeat", "to_length"}:
        text = value["repeat"] * (value["to_length"] // len(value["repeat"]) + 1)
        return text[: value["to_length"]]
    if isinstance(value, dict):
        return {k: _expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v) for v in value]
    return value


def _load() -> dict[str, Any]:
    return _expand(yaml.safe_load(_PATH.read_text(encoding="utf-8")))


def bad_messages() -> dict[str, str]:
    """Texts every channel must accept and answer."""
    return _load()["messages"]


def bad_payloads() -> dict[str, dict[str, Any]]:
    """Webhook bodies every channel must refuse: {body|raw, status, error} (``raw`` is text or
    bytes)."""
    return _load()["payloads"]


# --- WeChat webhook requests -------------------------------------------------
# Built rather than stored: they must be signed now (the channel refuses stale timestamps),
# with the test's token and key. Each is {query, body, status, error}; ``error`` is the
# refusal's code, or None for a request answered 200 without a turn (``answer``: "success"
# or "notice").


def _wechat_sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def _wechat_query(token: str, now: int, nonce: str = "20261201") -> dict[str, str]:
    return {"signature": _wechat_sign(token, str(now), nonce), "timestamp": str(now), "nonce": nonce}


def _wechat_message(openid: str, body: str, msg_type: str = "text", msg_id: int = 1) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>1700000000</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def wechat_bad_requests(
    token: str, now: int, openid: str = "oBadInput_0123456789abcdefgh"
) -> dict[str, dict[str, Any]]:
    """Plaintext-mode requests the WeChat webhook must refuse (4xx) or answer without a turn."""
    query = _wechat_query(token, now)
    text = _wechat_message(openid, "<Content><![CDATA[你好]]></Content>").encode("utf-8")

    def refused(status: int, error: str, body: bytes = text, **changes: Any) -> dict[str, Any]:
        changed = {k: v for k, v in {**query, **changes}.items() if v is not None}
        return {"query": changed, "body": body, "status": status, "error": error}

    laughs = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    stale, ahead = _wechat_query(token, now - 3600), _wechat_query(token, now + 3600)
    return {
        "forged_signature": refused(
            403, "invalid_signature", signature=_wechat_sign("not-the-token", str(now), "20261201")
        ),
        "signature_one_char_changed": refused(
            403,
            "invalid_signature",
            signature=query["signature"][:-1] + ("0" if query["signature"][-1] != "0" else "1"),
        ),
        "nonce_changed_after_signing": refused(403, "invalid_signature", nonce="20261202"),
        "stale_timestamp": {"query": stale, "body": text, "status": 403, "error": "stale_timestamp"},
        "future_timestamp": {"query": ahead, "body": text, "status": 403, "error": "stale_timestamp"},
        "missing_signature": refused(400, "invalid_query", signature=None),
        "missing_timestamp": refused(400, "invalid_query", timestamp=None),
        "missing_nonce": refused(400, "invalid_query", nonce=None),
        "no_query": {"query": {}, "body": text, "status": 400, "error": "invalid_query"},
        "signature_not_hex": refused(400, "invalid_query", signature="z" * 40),
        "nonce_with_markup": refused(400, "invalid_query", nonce="<x>"),
        "encrypted_without_a_key": refused(
            400, "encryption_not_configured", encrypt_type="aes", msg_signature="0" * 40
        ),
        "unknown_encrypt_type": refused(400, "invalid_query", encrypt_type="rot13"),
        "empty_body": refused(400, "empty_body", b""),
        "not_xml": refused(400, "invalid_xml", b"this is not XML"),
        "malformed_xml": refused(400, "invalid_xml", b"<xml><Content>unclosed</xml>"),
        "truncated_xml": refused(400, "invalid_xml", text[: len(text) // 2]),
        "xxe_external_entity": refused(
            400,
            "invalid_xml",
            b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            + text.replace("你好".encode(), b"&xxe;").replace(b"<![CDATA[&xxe;]]>", b"&xxe;"),
        ),
        "billion_laughs": refused(
            400,
            "invalid_xml",
            f"<!DOCTYPE xml [{laughs}]>".encode() + text.replace("<![CDATA[你好]]>".encode(), b"&a9;"),
        ),
        "json_instead_of_xml": refused(400, "invalid_xml", b'{"FromUserName": "o1", "Content": "hi"}'),
        "another_root": refused(
            400, "invalid_xml", text.replace(b"<xml>", b"<msg>").replace(b"</xml>", b"</msg>")
        ),
        "duplicate_sender": refused(
            400,
            "invalid_xml",
            text.replace(b"<CreateTime>", b"<FromUserName>oOther</FromUserName><CreateTime>"),
        ),
        "sender_with_markup": refused(400, "invalid_xml", text.replace(openid.encode(), b"o<script>")),
        "missing_sender": refused(
            400,
            "invalid_xml",
            text.replace(f"<FromUserName><![CDATA[{openid}]]></FromUserName>".encode(), b""),
        ),
        "control_character": refused(400, "invalid_xml", text.replace("你好".encode(), b"\x07\x1b[31m")),
        "over_the_size_cap": refused(
            413,
            "body_too_large",
            _wechat_message(openid, f"<Content><![CDATA[{'长' * 30000}]]></Content>").encode("utf-8"),
        ),
        "not_utf8_gbk": refused(400, "invalid_encoding", text.decode("utf-8").encode("gbk")),
        "invalid_utf8_bytes": refused(
            400, "invalid_encoding", text.replace("你好".encode(), b"\xff\xfe\xc3\x28")
        ),
        "unknown_message_type": {
            "query": query,
            "body": _wechat_message(openid, "", "hologram", 2).encode(),
            "status": 200,
            "error": None,
            "answer": "notice",
        },
        "unknown_event": {
            "query": query,
            "body": _wechat_message(openid, "<Event><![CDATA[teleport]]></Event>", "event", 3)
            .replace("<MsgId>3</MsgId>", "")
            .encode(),
            "status": 200,
            "error": None,
            "answer": "success",
        },
    }


def wechat_bad_encrypted_requests(
    token: str, aes_key: str, app_id: str, now: int, openid: str = "oBadInput_0123456789abcdefgh"
) -> dict[str, dict[str, Any]]:
    """Safe-mode requests the WeChat webhook must refuse (the channel has ``aes_key`` for ``app_id``)."""
    from bot.channels.wechat.crypto import MessageCipher

    query = _wechat_query(token, now)
    xml = _wechat_message(openid, "<Content><![CDATA[你好]]></Content>", msg_id=4)

    def sealed(key: str = aes_key, for_app: str = app_id, plaintext: str = xml) -> tuple[str, bytes]:
        encrypt = MessageCipher(token, key, for_app).encrypt(plaintext)
        return (
            encrypt,
            f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode(),
        )

    def request(encrypt: str, body: bytes, status: int, error: str, **changes: str) -> dict[str, Any]:
        signed = {
            **query,
            "encrypt_type": "aes",
            "msg_signature": _wechat_sign(token, str(now), query["nonce"], encrypt),
        }
        return {"query": {**signed, **changes}, "body": body, "status": status, "error": error}

    good, good_body = sealed()
    other_app, other_app_body = sealed(for_app="wx_another_app_0001")
    other_key, other_key_body = sealed(key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
    changed = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    changed_body = good_body.replace(good.encode(), changed.encode())
    unsafe, unsafe_body = sealed(plaintext='<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + xml)
    return {
        "plaintext_when_a_key_is_set": {
            "query": query,
            "body": xml.encode(),
            "status": 400,
            "error": "encryption_required",
        },
        "missing_msg_signature": {
            "query": {**query, "encrypt_type": "aes"},
            "body": good_body,
            "status": 400,
            "error": "invalid_query",
        },
        "forged_msg_signature": request(
            good, good_body, 403, "invalid_signature", msg_signature=_wechat_sign("x", good)
        ),
        "wrong_app_id": request(other_app, other_app_body, 403, "wrong_app"),
        "unknown_key": request(other_key, other_key_body, 403, "decrypt_failed"),
        # the msg_signature covers the ciphertext (CBC alone would let a changed block through)
        "ciphertext_one_char_changed": request(good, changed_body, 403, "invalid_signature"),
        "encrypt_missing": request(good, b"<xml><ToUserName>gh</ToUserName></xml>", 400, "invalid_xml"),
        "xxe_inside_the_ciphertext": request(unsafe, unsafe_body, 400, "invalid_xml"),
    }
