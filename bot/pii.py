"""The grammar of personal data: one definition per entity, for recognition and for masking.

Every pattern is matched on the NFKC form of the text, taken character by character, so
that a match maps back to the characters the user typed (１３８… and ＠ are found where they
stand) and format characters (zero-width spaces) do not hide a value. One scanner,
:func:`scan`, finds every entity and resolves overlaps; the NLU's normalizers, the flows'
readers and the masking all go through it, so a value is masked exactly when it is
recognized (STYLE.md, point 15).

Kinds:

- ``sealed``: a slot value sealed by ``actions/sealed.py`` (found so that masking leaves it alone);
- ``token``: widget identity tokens (``bot/identity.py``) and JWTs, bearer tokens, ``token=`` in URLs;
- ``code``: a six-digit one-time code, after its keyword (验证码, code …) or standing alone
  (not part of a longer number, not an amount); grouped 246 810 or 24-68-10 too;
- ``secret``: a password (or another code) after its keyword;
- ``email``; ``id_card`` (18 characters, birth date inside, X check digit); ``card`` (16–19
  digits, contiguous or in groups of four); ``phone`` (mainland mobile, 11 digits 1[3-9]…,
  with +86 / 0086 / 86, spaces, dashes or dots between any digits).

Digits spelled in Chinese (一三八零零一三八零零零, 幺三九…, 验证码二四六八一零) are read as digits
where at least six stand in a row, so that a number read out is recognized and masked as typed.

A longer span wins over a shorter one it overlaps (an e-mail address made of a phone number
is an e-mail address); between spans of equal length, see ``_PRIORITY``.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["sealed", "token", "code", "secret", "email", "id_card", "card", "phone"]
# Ties between spans of equal length: a code after its keyword is a code, a code-like number
# after 密码 is a password ("支付密码123456"), a number standing alone is a code.
_PRIORITY = ("sealed", "token", "keyed_code", "secret", "code", "email", "id_card", "card", "phone")
SEALED_PREFIX = "enc:v1:"

_SEP = r"[ .\-\u2010-\u2015]"
_PHONE = re.compile(
    rf"(?<![0-9])(?:(?:\+|00)?86{_SEP}?|\(\+?86\){_SEP}?)?"
    rf"(?P<value>1[3-9][0-9](?:{_SEP}?[0-9]){{8}})(?![0-9])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])(?P<value>[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,})"
    r"(?![A-Za-z0-9])"
)
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?P<value>[1-9][0-9]{5} ?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01]) ?[0-9]{3}[0-9Xx])(?![0-9A-Za-z])"
)
_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?P<value>[0-9]{16,19}|[0-9]{4}(?:[ \-][0-9]{4}){3}(?:[ \-]?[0-9]{1,3})?)"
    r"(?![0-9A-Za-z])"
)
_ZH_CODE_WORDS = r"验证码|驗證碼|校验码|校驗碼|动态码|動態碼|短信码|簡訊碼|确认码|確認碼|激活码|安全码"
_EN_CODE_WORDS = r"verification code|security code|passcode|otp|code"
_ZH_SECRET_WORDS = rf"支付密码|登录密码|密码|密碼|口令|{_ZH_CODE_WORDS}"
_EN_SECRET_WORDS = rf"password|passwd|pwd|pin|{_EN_CODE_WORDS}"
# An English keyword is a word of its own: "password_reset_form", "utter_invalid_code_format"
# (names of the domain, stored in every transcript) are not a keyword and its value.
_EN_WORD = r"(?<![A-Za-z0-9_])(?:{})(?![A-Za-z_])"
_SIX_DIGITS = (
    r"[0-9]{6}(?![0-9])|(?:[0-9]{3}[ \-][0-9]{3}|[0-9]{2}[ \-][0-9]{2}[ \-][0-9]{2})(?![0-9])(?![ \-][0-9])"
)
_OPEN = r"[\[(【「]?"
_KEYED_CODE = re.compile(
    rf"(?:{_ZH_CODE_WORDS}|{_EN_WORD.format(_EN_CODE_WORDS)})"
    rf"\s*(?:(?:是|为|為|:|=|is)\s*)?{_OPEN}\s*(?P<value>{_SIX_DIGITS})",
    re.IGNORECASE,
)
_LONE_CODE = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9][.,])(?<![¥$])(?<![¥$] )(?<!rmb)(?<!rmb )(?<!cny)(?<!cny )"
    r"(?P<value>[0-9]{6}|(?<![0-9][ \-])(?:[0-9]{3}[ \-][0-9]{3}|[0-9]{2}[ \-][0-9]{2}[ \-][0-9]{2}))"
    r"(?![0-9A-Za-z])(?![ \-][0-9])(?![.,][0-9])(?!\s*(?:元|块|塊|圆|圓|万|萬|千|百|角|毛|%|rmb|cny|yuan))",
    re.IGNORECASE,
)
_SECRET = re.compile(
    rf"(?:(?P<zh>{_ZH_SECRET_WORDS})|{_EN_WORD.format(_EN_SECRET_WORDS)})"
    rf"(?:\s*(?P<sep>是|为|為|:|=)\s*|(?P<gap>\s*)(?:is\s+)?){_OPEN}"
    r"(?P<value>[0-9A-Za-z!@#$%^&*.+=\-~][0-9A-Za-z!@#$%^&*._+=\-~]{2,})",
    re.IGNORECASE,
)
_NOT_LETTER = re.compile(r"[^A-Za-z]")
_TOKEN = re.compile(
    r"(?<![A-Za-z0-9_\-.])(?P<value>eyJ[A-Za-z0-9_\-]{6,}(?:\.[A-Za-z0-9_\-]{16,}){1,2})(?![A-Za-z0-9_\-])"
    r"|(?<![A-Za-z])bearer\s+(?P<bearer>[A-Za-z0-9\-._~+/]{8,}=*)"
    r"|[?&;](?:access_token|identity_token|token|api_key|signature|sig)=(?P<param>[^\s&#\"'<>]{6,})",
    re.IGNORECASE,
)
_SEALED = re.compile(
    rf"(?P<value>{re.escape(SEALED_PREFIX)}gAAAAA[A-Za-z0-9_\-]{{60,}}={{0,2}})(?![A-Za-z0-9_\-=])"
)
_FERNET_OVERHEAD = 57  # version, timestamp, IV and HMAC: a Fernet token is this plus n × 16 bytes


@dataclass(frozen=True)
class Span:
    """One piece of personal data: where it stands in the text and its canonical value.

    ``value`` is 11 digits for a phone, the lower-cased address for an e-mail, the digits for
    a card or a code, the 18 characters (X upper-cased) for an ID card, the token or secret as
    typed (after NFKC). ``keyed`` tells a value found by its keyword (a code after 验证码, a
    password after 密码, a token after ``Bearer`` or ``token=``): without the keyword, only
    a code would still be one.
    """

    kind: Kind
    start: int
    end: int
    value: str
    keyed: bool = False


def nfkc(text: str) -> tuple[str, list[int]]:
    """The text in NFKC, character by character, without format characters; and for every
    character of the result, the index of the character of ``text`` it comes from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isascii():
            out.append(char)
            origin.append(index)
            continue
        if unicodedata.category(char) == "Cf":
            continue
        folded = unicodedata.normalize("NFKC", char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


# Digits spelled in Chinese, as people read a number out: 一三八…, 幺三九… (幺 is the spoken 1).
# Only a run of at least six of them (digits and separators between them allowed) is read as
# digits: "一笔", "三天", "一一解答" and amounts (五百, 一万二: 百, 千, 万 are not digits) stay words.
_SPELLED = "零〇一二三四五六七八九幺"
_SPELLED_VALUE = str.maketrans(_SPELLED, "001234567891")
_SPELLED_RUN = re.compile(rf"[0-9{_SPELLED}](?:{_SEP}?[0-9{_SPELLED}]){{5,}}")
_SPELLED_DIGIT = re.compile(f"[{_SPELLED}]")


def _spelled_digits(text: str) -> str:
    """The runs of digits spelled in Chinese as ASCII digits (one character for one: offsets stay)."""
    if not _SPELLED_DIGIT.search(text):
        return text
    return _SPELLED_RUN.sub(lambda m: m[0].translate(_SPELLED_VALUE), text)


def _as_read(text: str) -> tuple[str, list[int]]:
    """:func:`nfkc` with digits spelled in Chinese as digits, and the origin of each character."""
    folded, origin = nfkc(text)
    return _spelled_digits(folded), origin


def fold(text: str) -> str:
    """The text as the grammar reads it: :func:`nfkc`, and digits spelled in Chinese as digits."""
    return _as_read(text)[0]


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _is_fernet(token: str) -> bool:
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return False
    return data[:1] == b"\x80" and len(data) > _FERNET_OVERHEAD and (len(data) - _FERNET_OVERHEAD) % 16 == 0


def _candidates(text: str) -> Iterator[Span]:
    """Every match of every grammar in an already folded text (overlaps included)."""
    for m in _SEALED.finditer(text):
        if _is_fernet(m["value"][len(SEALED_PREFIX) :]):
            yield Span("sealed", m.start("value"), m.end("value"), m["value"])
    for m in _TOKEN.finditer(text):
        group = next(g for g in ("value", "bearer", "param") if m[g] is not None)
        if group == "bearer" and not (_NOT_LETTER.search(m[group]) or len(m[group]) >= 20):
            continue  # "the bearer instruments": a word, not a token
        yield Span("token", m.start(group), m.end(group), m[group], keyed=group != "value")
    for m in _KEYED_CODE.finditer(text):
        yield Span("code", m.start("value"), m.end("value"), _digits(m["value"]), keyed=True)
    for m in _LONE_CODE.finditer(text):
        yield Span("code", m.start("value"), m.end("value"), _digits(m["value"]))
    for m in _SECRET.finditer(text):
        if not m["zh"] and not m["sep"] and not m["gap"]:
            continue  # an English keyword is followed by a space or a separator
        if m["sep"] or _NOT_LETTER.search(m["value"]):  # "password reset" is not a password
            yield Span("secret", m.start("value"), m.end("value"), m["value"], keyed=True)
    for m in _EMAIL.finditer(text):
        yield Span("email", m.start("value"), m.end("value"), m["value"].lower())
    for m in _ID_CARD.finditer(text):
        yield Span("id_card", m.start("value"), m.end("value"), m["value"].replace(" ", "").upper())
    for m in _CARD.finditer(text):
        yield Span("card", m.start("value"), m.end("value"), _digits(m["value"]))
    for m in _PHONE.finditer(text):
        yield Span("phone", m.start(), m.end(), _digits(m["value"]))


def _rank(span: Span) -> int:
    return _PRIORITY.index("keyed_code" if span.kind == "code" and span.keyed else span.kind)


def _resolve(candidates: list[Span]) -> list[Span]:
    """Longest first, then by kind priority; a span overlapping one already chosen is dropped."""
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (s.start - s.end, _rank(s), s.start)):
        if all(span.end <= other.start or other.end <= span.start for other in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def scan(text: str) -> list[Span]:
    """Every piece of personal data in a text, in order, with offsets into ``text`` itself."""
    if not text:
        return []
    folded, origin = _as_read(text)
    spans = []
    for span in _resolve(list(_candidates(folded))):
        start, end = origin[span.start], origin[span.end - 1] + 1
        spans.append(Span(span.kind, start, end, span.value, span.keyed))
    return spans


def find(text: str, kind: Kind) -> list[Span]:
    """The spans of one kind in a text (as :func:`scan` resolved them)."""
    return [span for span in scan(text) if span.kind == kind]


def whole(text: str, kind: Kind) -> str | None:
    """The canonical value when the whole text (spaces around it aside) is one ``kind``."""
    stripped = text.strip()
    spans = scan(stripped)
    if len(spans) == 1 and spans[0].kind == kind and (spans[0].start, spans[0].end) == (0, len(stripped)):
        return spans[0].value
    return None


def phone_value(text: str) -> str | None:
    """11 digits when the text is a mainland mobile number (+86 138-0013-8000 → 13800138000)."""
    return whole(text, "phone")


def email_value(text: str) -> str | None:
    """The lower-cased address when the text is an e-mail address."""
    return whole(text, "email")


def is_sealed(value: object) -> bool:
    """Whether a value is a sealed (encrypted) slot value."""
    return isinstance(value, str) and whole(value, "sealed") is not None
