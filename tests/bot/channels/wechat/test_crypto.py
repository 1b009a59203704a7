"""Signatures and safe-mode encryption against CHANNELS.md's known answers, both ways, and
the checks wechatpy lacks (timestamp window, padding, key rotation)."""

from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import PrpCrypto

from bot.channels.wechat.crypto import (
    DecryptionFailed,
    MessageCipher,
    check_signature,
    check_timestamp,
    random_text,
    sign,
)
from bot.channels.wechat.errors import RequestRefused
from bot.channels.wechat.inbound import envelope_encrypt, parse_fields, read_message
from bot.channels.wechat.settings import aes_key_bytes

TOKEN, KEY, APPID = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"
CIPHERTEXT = (
    "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv"
    "283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkK"
    "R2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpk"
    "HHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e"
    "8K9QaNWHp91eBdCRxthuL0="
)
MSG_SIGNATURE, TIMESTAMP, NONCE = "74d92dfeb87ba7c714f89d98870ae5eb62dff26d", "1411525903", "461056294"
REPLY = """<xml>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[test]]></Content>
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>
<ToUserName><![CDATA[messense]]></ToUserName>
<AgentID>1</AgentID>
<CreateTime>1411525903</CreateTime>
</xml>"""
REPLY_ENCRYPT = (
    "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgUR"
    "nAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0"
    "oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5M"
    "IkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
)


def test_plain_signature_known_answer() -> None:
    assert sign("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    check_signature("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "test", "1410685589", "test")


@pytest.mark.parametrize(
    ("signature", "nonce"),
    [
        ("f21891de399b4e33a1a93c9a7b8a8fffb5a443ff", "tesu"),  # one character of the nonce changed
        ("f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", "test"),  # one character of the signature
        ("", "test"),
        ("f21891de399b4e33a1a93c9a7b8a8fff", "test"),  # a prefix
    ],
)
def test_a_changed_signature_is_refused(signature: str, nonce: str) -> None:
    with pytest.raises(RequestRefused) as refused:
        check_signature(signature, "test", "1410685589", nonce)
    assert (refused.value.status, refused.value.code) == (403, "invalid_signature")


def test_msg_signature_known_answer_covers_the_ciphertext() -> None:
    check_signature(MSG_SIGNATURE, TOKEN, TIMESTAMP, NONCE, CIPHERTEXT)
    with pytest.raises(RequestRefused):
        check_signature(MSG_SIGNATURE, TOKEN, TIMESTAMP, NONCE, CIPHERTEXT[:-2] + "1=")


def test_the_given_ciphertext_decrypts_to_the_known_message() -> None:
    xml = MessageCipher(TOKEN, KEY, APPID).decrypt(CIPHERTEXT)
    message = read_message(xml)
    assert (message.kind, message.openid, message.text, message.msg_id) == (
        "text",
        "messense",
        "test",
        "4363689963896700987",
    )


def test_the_same_ciphertext_for_another_app_is_refused() -> None:
    with pytest.raises(DecryptionFailed) as failed:
        MessageCipher(TOKEN, KEY, "wx0000000000000000").decrypt(CIPHERTEXT)
    assert failed.value.code == "wrong_app"
    assert failed.value.refusal().status == 403


@pytest.mark.parametrize("position", [0, 40, 200, len(CIPHERTEXT) - 6])
def test_one_character_changed_in_the_ciphertext_is_refused(position: int) -> None:
    changed = (
        CIPHERTEXT[:position] + ("A" if CIPHERTEXT[position] != "A" else "B") + CIPHERTEXT[position + 1 :]
    )
    with pytest.raises(DecryptionFailed):
        MessageCipher(TOKEN, KEY, APPID).decrypt(changed)


def test_encrypting_with_fixed_random_bytes_gives_the_known_signature() -> None:
    reply = MessageCipher(TOKEN, KEY, APPID).reply(REPLY, NONCE, TIMESTAMP, prefix="1234567890123456")
    fields = parse_fields(reply)
    assert fields["Encrypt"] == REPLY_ENCRYPT
    assert fields["MsgSignature"] == "407518b7649e86ef23978113f92d27afa9296533"
    assert (fields["TimeStamp"], fields["Nonce"]) == (TIMESTAMP, NONCE)


def test_a_reply_round_trips_and_its_random_prefix_differs_each_time() -> None:
    cipher = MessageCipher(TOKEN, KEY, APPID)
    first, second = cipher.encrypt("<xml>你好</xml>"), cipher.encrypt("<xml>你好</xml>")
    assert first != second
    assert cipher.decrypt(first) == cipher.decrypt(second) == "<xml>你好</xml>"
    assert len(random_text()) == 16 and random_text() != random_text()


def test_the_previous_key_is_tried_after_a_rotation() -> None:
    old_key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    sent_with_old = MessageCipher(TOKEN, old_key, APPID).encrypt("<xml>old</xml>")
    rotated = MessageCipher(TOKEN, KEY, APPID, previous_aes_key=old_key)
    assert rotated.decrypt(sent_with_old) == "<xml>old</xml>"
    assert rotated.decrypt(CIPHERTEXT).startswith("<xml>")
    with pytest.raises(DecryptionFailed):
        MessageCipher(TOKEN, KEY, APPID).decrypt(sent_with_old)
    assert rotated.open(sent_with_old) == ("<xml>old</xml>", 1)
    assert rotated.open(CIPHERTEXT)[1] == 0
    # a reply goes out under the key its message came with
    assert MessageCipher(TOKEN, KEY, APPID).decrypt(rotated.encrypt("<xml>new</xml>")) == "<xml>new</xml>"
    assert (
        MessageCipher(TOKEN, old_key, APPID).decrypt(rotated.encrypt("<xml>back</xml>", key=1))
        == "<xml>back</xml>"
    )


def _forged(plain: bytes) -> str:
    """``plain`` encrypted as is (no padding added), as a forger with the key could."""
    return base64.b64encode(PrpCrypto(aes_key_bytes(KEY)).cipher.encrypt(plain)).decode()


@pytest.mark.parametrize(
    "tail",
    [
        bytes([0]) * 32,  # padding byte 0
        bytes([33]) * 32,  # over the block size
        bytes([7]) * 31 + bytes([5]),  # padding bytes disagree
        bytes([200]) * 32,
    ],
)
def test_a_bad_padding_byte_is_refused(tail: bytes) -> None:
    body = b"0123456789abcdef" + (5).to_bytes(4, "big") + b"<xml>" + APPID.encode()
    forged = _forged(body + b"\x00" * (-(len(body) + len(tail)) % 16) + tail)
    with pytest.raises(DecryptionFailed):
        MessageCipher(TOKEN, KEY, APPID).decrypt(forged)


def test_a_length_field_beyond_the_content_is_refused() -> None:
    body = b"0123456789abcdef" + (10_000).to_bytes(4, "big") + b"<xml/>" + APPID.encode()
    padding = 32 - len(body) % 32
    with pytest.raises(DecryptionFailed):
        MessageCipher(TOKEN, KEY, APPID).decrypt(_forged(body + bytes([padding]) * padding))


@pytest.mark.parametrize("value", ["not base64!", "", "QUJD", "A" * 43 + "="])
def test_garbage_encrypt_values_are_refused(value: str) -> None:
    with pytest.raises(DecryptionFailed):
        MessageCipher(TOKEN, KEY, APPID).decrypt(value)


def test_timestamps_outside_the_window_are_refused() -> None:
    check_timestamp("1000000", 1000000 + 300, 300)
    check_timestamp("1000300", 1000000, 300)
    for stale in ("999699", "1000301", "", "12a4", "-5"):
        with pytest.raises(RequestRefused) as refused:
            check_timestamp(stale, 1000000, 300)
        assert refused.value.code == "stale_timestamp"


def test_the_envelope_of_a_known_request_is_read() -> None:
    body = (
        f"<xml><ToUserName><![CDATA[{APPID}]]></ToUserName><Encrypt><![CDATA[{CIPHERTEXT}]]></Encrypt></xml>"
    )
    assert envelope_encrypt(parse_fields(body)) == CIPHERTEXT
