"""Reading a typed reply as the answer to the question the bot has just asked (pure).

A careful human agent reads "解决了" after "这样能解决您的问题吗？" as a yes, "第二个" as the
second option and "算了" after an offer of a person as a no, whatever a classifier trained
on first messages says. The reply is read against the question first: a button's title or
one of its phrases, an option number, a yes/no word, a value for the slot the form asked
for. Only what is clearly not an answer (a person, leaving, a correction, a new problem, a
question) goes to the intent rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from bot.dialogue.lexicon import Lexicon, normalize
from bot.dialogue.questions import Question
from bot.nlu.numerals import CHINESE_NUMERAL_CHARS, parse_amount

ANSWER_INTENT = "inform"
INVALID_OPTION_INTENT = "invalid_option"
WRONG_TOPIC_INTENT = "wrong_topic"
# Intents only this reading produces (the classifier is not trained on them).
READER_INTENTS = frozenset({INVALID_OPTION_INTENT, WRONG_TOPIC_INTENT})
PROBLEM_INTENTS = frozenset(
    {
        "forgot_password",
        "transaction_failed",
        "update_account_info",
        "contact_support",
        "account_security",
        "complaint",
        "request_human",
    }
)
_QUESTION_INTENTS = frozenset({"contact_support", "out_of_scope", "bot_challenge", "forgot_password"})
_LEAVING_INTENTS = frozenset({"stop", "goodbye"})
# A yes or a no is only taken from the reply's own words: the classifier says "affirm" with
# confidence for chatter that merely contains "ok" or "好", which must not answer a question.
_YES_NO_INTENTS = frozenset({"affirm", "deny"})
_CLAUSE = re.compile(r"[，,。.！!？?；;、~～\s]+")
_QUESTION = re.compile(
    r"[?？吗么嘛]\W*$|怎么|什么|多少|哪|几点|如何|能不能|可不可以|是不是|有没有|是.{1,6}还是"
)
_NUMERAL = r"(\d{1,2}|[一二两三四五六七八九十壹贰叁肆伍])"
_SUFFIX = r"(?:个|项|条|笔|号|种|位|行|选项|项目|分)"
_NUMBER = re.compile(rf"^(?:第|选项|编号|序号|no|option)?{_NUMERAL}{_SUFFIX}?$")
# "选9", "第3个", "2号": a number meant as an option, even where there is none to choose
_MARKED_NUMBER = re.compile(rf"^(?:(?:选|选项|第|选第|option){_NUMERAL}{_SUFFIX}?|{_NUMERAL}(?:号|个|项))$")
_AMOUNT_IN_TITLE = re.compile(r"(\d+(?:\.\d+)?)\s*元")
_DAY_IN_TITLE = re.compile(r"(\d{1,2})月(\d{1,2})日")
_KIND_IN_TITLE = re.compile(r"转账|付款|充值|提现|退款|收款")
_MONTH_DAY = re.compile(r"(\d{1,2})月(\d{1,2})")
_SLASH_DATE = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?![\d/])")  # "11/28", on the text as typed
_DAY = re.compile(r"(?<![\d月])(\d{1,2})(?:号|日)")
_BARE_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.])")
_CHINESE_AMOUNT = re.compile(rf"[{CHINESE_NUMERAL_CHARS}点]{{2,}}")
_STARS = re.compile(r"[⭐★🌟]{1,10}")  # a rating typed as stars (emoji, without a variation selector)
_MAX_OPTION_NUMBER = 20  # "88" at a list of transactions is an amount, not option 88
_MAX_EXTRA = 6  # characters a reply may add around an option's phrase and still pick it
_LONG_REPLY = 200  # longer replies to a question that wants a choice or a value are not a new topic
FALLBACK_INTENT = "nlu_fallback"
_DESCRIPTION = 12  # a free-text reply longer than this is a description, even with "答非所问" in it
_ACKNOWLEDGEMENT = 3  # "好吧", "嗯嗯", "那行": short enough to lead a last clause that leaves

Kind = Literal["option", "answer", "invalid_option", "other", "none"]


@dataclass(frozen=True)
class Nlu:
    """What the classifier made of the reply."""

    intent: str | None = None
    entities: tuple[dict[str, Any], ...] = ()

    def has(self, *names: str) -> bool:
        """Whether the reply has an entity of one of these types."""
        return any(e.get("entity") in names for e in self.entities)

    def values(self, name: str) -> list[Any]:
        """The values of one entity type."""
        return [e.get("value") for e in self.entities if e.get("entity") == name]


@dataclass(frozen=True)
class Reading:
    """How a reply is read: an option, an answer to the slot, not an answer, or nothing."""

    kind: Kind = "none"
    intent: str | None = None
    payload: str | None = None
    option: int | None = None
    how: str = ""
    entities: dict[str, Any] = field(default_factory=dict)

    @property
    def is_answer(self) -> bool:
        """The reply answers the question (an option or a value for the slot)."""
        return self.kind in ("option", "answer")


NOTHING = Reading()


def read_reply(text: str, question: Question, nlu: Nlu, lexicon: Lexicon) -> Reading:
    """Read a typed reply in the context of the pending question."""
    stars = text.strip().replace("\ufe0f", "")
    if stars and _STARS.fullmatch(stars):  # "⭐⭐⭐⭐" is a rating of 4 stars ("4星")
        text = f"{len(stars)}星"
    norm = normalize(text)
    if not norm:
        return NOTHING
    clauses = [c for c in (normalize(part) for part in _CLAUSE.split(text)) if c]
    lead = clauses[0] if clauses else norm
    # the last clause after a short acknowledgement: "好吧 拜拜", "好的，再见"
    tail = clauses[-1] if len(clauses) > 1 and len("".join(clauses[:-1])) <= _ACKNOWLEDGEMENT else ""
    if not question.asked:
        if _MARKED_NUMBER.match(norm):
            return Reading("invalid_option", INVALID_OPTION_INTENT, how="no_options")
        control = _control(norm, question, nlu, lexicon, lead, tail)
        return Reading("other", control, how="control") if control == WRONG_TOPIC_INTENT else NOTHING
    kind = lexicon.slot_kind(question.slot, question.slots) if question.slot else None
    if len(norm) > _LONG_REPLY and kind not in ("free", "time"):
        return Reading("other", FALLBACK_INTENT, how="too_long")
    if question.options:
        corrected = _self_corrected(norm, question, nlu, lexicon)
        if corrected is not None:
            return corrected
        found = _match_option(norm, lead, question, lexicon)
        if found is None and kind == "transaction":
            found = _match_clue(norm, text, question, nlu)
        if found is not None:
            return found
        number = _option_number(lexicon.core(norm), lexicon)
        if number is not None:
            if 1 <= number <= len(question.options):
                return _option(question, number, "number")
            return Reading("invalid_option", INVALID_OPTION_INTENT, how="number")
        yes_no = _yes_no(norm, lead, question, lexicon)
        if yes_no is not None:
            return yes_no
    elif _MARKED_NUMBER.match(lexicon.core(norm)) or _MARKED_NUMBER.match(norm):
        return Reading("invalid_option", INVALID_OPTION_INTENT, how="no_options")
    control = _control(norm, question, nlu, lexicon, lead, tail)
    if control:
        return Reading("other", control, how="control")
    if _another_matter(norm, lexicon):
        return NOTHING
    if question.options and kind == "free":  # a category told in a sentence: the one it names
        mentioned = mentioned_option(text, question, lexicon)
        if mentioned is not None:
            return mentioned
    if question.options:  # "改邮件地址": the one option whose value the classifier found
        named = _named_option(question, nlu)
        if named is not None:
            return named
    flow_intent = _flow(question, lexicon)[0]
    # a question of its own asked inside the form ("继续办理吗？"): a problem other than the
    # form's is that problem, not the free words the form's slot would take (a code, a phone
    # number or a transaction is still its slot's answer: "验证码是 736 204")
    inside = kind == "free" and bool(question.options) and question.response != f"utter_ask_{question.slot}"
    request = kind == "free" and norm.startswith(lexicon.requests)  # "先帮我重置一下密码"
    if (inside or request) and _another_problem(norm, nlu, flow_intent):
        return NOTHING
    if kind and _accepts(kind, text, norm, nlu, lexicon, flow_intent):
        return Reading("answer", ANSWER_INTENT, how=kind)
    if nlu.intent in _LEAVING_INTENTS:  # the classifier's guess alone never ends a flow
        return Reading("other", FALLBACK_INTENT, how="unsupported_leave")
    if question.options and nlu.intent in _YES_NO_INTENTS:  # nor picks an option
        return Reading("other", FALLBACK_INTENT, how="unsupported_yes_no")
    return NOTHING


def _self_corrected(norm: str, question: Question, nlu: Nlu, lexicon: Lexicon) -> Reading | None:
    """The option picked after a change of mind ("选3…不对，是第一个"): the words after the last
    self-correction, read alone, when there were words before it and they pick an option."""
    found = ((norm.rfind(marker), marker) for marker in lexicon.self_corrections)
    start, marker = max(found, key=lambda c: c[0], default=(-1, ""))
    if start <= 0:
        return None
    rest = norm[start + len(marker) :]
    if not lexicon.core(rest):
        return None
    reading = read_reply(rest, question, Nlu(nlu.intent), lexicon)
    return reading if reading.kind == "option" else None


def _another_matter(norm: str, lexicon: Lexicon) -> bool:
    """The reply opens another matter ("我又遇到个问题，支付密码忘了") and goes on to say it."""
    return any(norm.startswith(opener) and len(norm) - len(opener) >= 3 for opener in lexicon.another_matter)


def _option(question: Question, number: int, how: str) -> Reading:
    option = question.options[number - 1]
    return Reading(
        "option",
        option.intent or ANSWER_INTENT,
        option.payload,
        number,
        how,
        option.entities,
    )


def _negated(norm: str, start: int, lexicon: Lexicon) -> bool:
    """A negation word just before a phrase ("没解决", "不要转人工")."""
    return any(ch in lexicon.negations for ch in norm[max(0, start - 2) : start])


def _phrase_score(norm: str, lead: str, phrase: str, lexicon: Lexicon, title: bool = False) -> int:
    """6: the whole reply; 4: its first clause; 3: an option's whole title of three or more
    characters anywhere ("转账失败了没人处理，这个算交易问题吧": 交易问题, not 没人处理's 处理时效);
    2: inside a short reply; 0: no match."""
    core_phrase = lexicon.core(phrase)
    # a phrase stripped to one character ("就这个" → "这") no longer says anything
    targets = {phrase, core_phrase} if len(core_phrase) >= 2 else {phrase}
    if lexicon.core(norm) in targets or norm in targets:
        return 6
    if lexicon.core(lead) in targets or lead in targets:
        return 4
    if title and len(phrase) >= 3:
        start = norm.find(phrase)
        if start >= 0 and not _negated(norm, start, lexicon):
            return 3
    for reply in (norm, lead):  # inside a short reply, or inside the short first clause of a longer one
        if len(phrase) >= 2 and len(reply) - len(phrase) <= _MAX_EXTRA:
            start = reply.find(phrase)
            if start >= 0 and not _negated(reply, start, lexicon):
                return 2
    return 0


def _digits_for_numerals(norm: str, lexicon: Lexicon) -> str:
    """ "四分" → "4分" in short replies, so that they match a title like "4 分"."""
    if len(norm) > 4:
        return norm
    return "".join(str(lexicon.numerals[ch]) if ch in lexicon.numerals else ch for ch in norm)


def _match_option(norm: str, lead: str, question: Question, lexicon: Lexicon) -> Reading | None:
    """The option whose title or phrase the reply types (the longest, best-placed match)."""
    candidates = {norm, _digits_for_numerals(norm, lexicon)}
    best: tuple[int, int] = (0, 0)
    chosen: set[int] = set()
    for number, option in enumerate(question.options, start=1):
        title = normalize(option.title)
        for phrase in (title, *lexicon.phrases_for(question.response, option.payload)):
            if not phrase:
                continue
            score = max(_phrase_score(c, lead, phrase, lexicon, phrase == title) for c in candidates)
            if not score:
                continue
            key = (score, len(phrase))
            if key > best:
                best, chosen = key, {number}
            elif key == best:
                chosen.add(number)
    if len(chosen) == 1:
        return _option(question, chosen.pop(), "title")
    return None


def mentioned_option(text: str, question: Question, lexicon: Lexicon) -> Reading | None:
    """The one option a longer message names anywhere ("客服态度太差了" → 服务态度), if exactly one."""
    norm = normalize(text)
    best_len, chosen = 0, set()
    for number, option in enumerate(question.options, start=1):
        for phrase in (normalize(option.title), *lexicon.phrases_for(question.response, option.payload)):
            start = norm.find(phrase) if len(phrase) >= 2 else -1
            if start < 0 or _negated(norm, start, lexicon):
                continue
            if len(phrase) > best_len:
                best_len, chosen = len(phrase), {number}
            elif len(phrase) == best_len:
                chosen.add(number)
    return _option(question, chosen.pop(), "mention") if len(chosen) == 1 else None


def _named_option(question: Question, nlu: Nlu) -> Reading | None:
    """The one option whose entity values are the only values of their type the classifier found
    in the reply (account_field "email" for "改邮件地址" at the buttons 手机号 / 邮箱 / …)."""
    chosen = []
    for number, option in enumerate(question.options, start=1):
        wanted = option.entities
        if wanted and all(
            {str(v) for v in nlu.values(name)} == {str(value)} for name, value in wanted.items()
        ):
            chosen.append(number)
    return _option(question, chosen[0], "entity") if len(chosen) == 1 else None


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _match_clue(norm: str, text: str, question: Question, nlu: Nlu) -> Reading | None:
    """A transaction picked by what the user remembers of it: the payee or the amount."""
    amounts = {a for a in map(_amount, nlu.values("amount")) if a is not None}
    amounts |= {a for a in map(_amount, _BARE_NUMBER.findall(text)) if a is not None}
    # "八十八那笔": an amount in Chinese numerals (two characters at least: "一笔" is not 1 yuan)
    amounts |= {a for a in map(parse_amount, _CHINESE_AMOUNT.findall(norm)) if a is not None}
    days = {int(d) for d in _DAY.findall(norm)} | {int(d) for _, d in _MONTH_DAY.findall(norm)}
    days |= {int(d) for _, d in _SLASH_DATE.findall(text)}
    scores: dict[int, int] = {}
    for number, option in enumerate(question.options, start=1):
        title = option.title
        score = 0
        payee = normalize(title.rpartition("·")[2]) if "·" in title else ""
        if payee and (payee in norm or (len(payee) >= 3 and payee[:2] in norm)):
            score += 2
        if any(_amount(a) in amounts for a in _AMOUNT_IN_TITLE.findall(title)):
            score += 1
        day = _DAY_IN_TITLE.search(title)
        if day and int(day.group(2)) in days:
            score += 1
        kind = _KIND_IN_TITLE.search(title)
        if kind and kind.group(0) in norm:
            score += 1
        if score:
            scores[number] = score
    if not scores:
        return None
    top = max(scores.values())
    best = [n for n, s in scores.items() if s == top]
    return _option(question, best[0], "clue") if len(best) == 1 else None


def _option_number(core: str, lexicon: Lexicon) -> int | None:
    """ "2", "第二个", "选2", "2号" → 2."""
    match = _NUMBER.match(core)
    if not match:
        return None
    token = match[1]
    number = int(token) if token.isdigit() else lexicon.numerals.get(token)
    if number is None or number > _MAX_OPTION_NUMBER:
        return None
    return number


def _yes_no_payloads(question: Question, lexicon: Lexicon) -> tuple[str | None, str | None]:
    if question.response in lexicon.yes_no:
        return lexicon.yes_no[question.response]
    payloads = {o.payload for o in question.options}
    if "/affirm" in payloads or "/deny" in payloads:
        return ("/affirm" if "/affirm" in payloads else None, "/deny" if "/deny" in payloads else None)
    return None, None


def _yes_no(norm: str, lead: str, question: Question, lexicon: Lexicon) -> Reading | None:
    """A yes or a no to a yes/no question ("好的", "不用了，谢谢", "不行")."""
    yes_payload, no_payload = _yes_no_payloads(question, lexicon)
    if not yes_payload and not no_payload:
        return None

    # the question's own words for a yes or a no that has no button ("不用重发了")
    own_no = set(lexicon.phrases_for(question.response, no_payload)) if no_payload else set()
    own_yes = set(lexicon.phrases_for(question.response, yes_payload)) if yes_payload else set()

    def is_no(word: str) -> bool:
        negated_yes = len(word) > 1 and word[0] in lexicon.negations and word[1:] in lexicon.yes
        return word in lexicon.no or word in own_no or negated_yes

    words = {lexicon.core(norm), lexicon.core(lead), norm, lead}
    payload = None
    if no_payload and any(is_no(w) for w in words):
        payload = no_payload
    elif yes_payload and any(w in lexicon.yes or w in own_yes for w in words):
        payload = yes_payload
    if payload is None:
        return None
    number = question.option_with(payload)
    if number is not None:
        return _option(question, number, "yes_no")
    intent = payload.lstrip("/").split("{", 1)[0]
    return Reading("option", intent, payload, None, "yes_no")


def _control(
    norm: str, question: Question, nlu: Nlu, lexicon: Lexicon, lead: str = "", tail: str = ""
) -> str | None:
    """A person, leaving, a correction or "not received", typed instead of an answer.

    A phrase of two characters counts as the whole reply, its first clause ("算了，不重置了"), its
    last after a short acknowledgement ("好吧 拜拜") or the start of a negated rest ("算了不冻了"); a
    longer one anywhere, unless negated. "没收到"
    inside a problem the classifier recognizes ("转账失败了，对方没收到") is that problem."""
    core = lexicon.core(norm)
    for intent, phrases in lexicon.control.items():
        for phrase in phrases:
            if len(phrase) <= 2:
                rest = norm[len(phrase) :] if norm.startswith(phrase) else ""
                hit = phrase in (core, norm, lead, tail) or (bool(rest) and rest[0] in lexicon.negations)
                start = 0
            else:
                start = norm.find(phrase)
                hit = start >= 0 and not _negated(norm, start, lexicon)
                if hit and intent == "not_received" and nlu.intent in PROBLEM_INTENTS:
                    hit = False
            if not hit:
                continue
            if intent != WRONG_TOPIC_INTENT:
                return intent
            if phrase not in lead and _describes(norm, question, lexicon):
                continue  # "…我问了三遍都答非所问" describes what happened; "搞错了，…" corrects
            return _correction(norm.replace(phrase, "", 1), question, nlu, lexicon)
    return None


def _describes(norm: str, question: Question, lexicon: Lexicon) -> bool:
    """A long reply to a question that wants free words (a complaint's description)."""
    kind = lexicon.slot_kind(question.slot, question.slots) if question.slot else None
    return kind == "free" and len(norm) > _DESCRIPTION


def _correction(rest: str, question: Question, nlu: Nlu, lexicon: Lexicon) -> str:
    """ "我不是要投诉" leaves the flow; "我不是要投诉，是转账失败了" starts the right one.

    The problem the classifier sees is started only when words are left once the correction's
    own phrases and the words of the form's topic and of that problem's are taken out: "我不是要
    改密码，搞错了" names the topic it denies and nothing else."""
    flow_intent, words = _flow(question, lexicon)
    seen = next((w for intent, w in lexicon.flows.values() if intent == nlu.intent), ())
    for word in (*lexicon.control.get(WRONG_TOPIC_INTENT, ()), *words, *seen):
        rest = rest.replace(word, "")
    if nlu.intent in PROBLEM_INTENTS and nlu.intent != flow_intent and len(rest) >= 3:
        return str(nlu.intent)
    return WRONG_TOPIC_INTENT


def _flow(question: Question, lexicon: Lexicon) -> tuple[str | None, tuple[str, ...]]:
    """The intent of the form's own topic (``update_account_info`` for the update form) and
    the words that name it."""
    return lexicon.flows.get(question.form or "", (None, ()))


def _another_problem(norm: str, nlu: Nlu, flow_intent: str | None) -> bool:
    """The classifier sees a problem other than the form's own ("密码忘记了" asked for a
    nickname). A person is left to the words of ``control``: the classifier says
    ``request_human`` for names it does not know."""
    return len(norm) >= 4 and nlu.intent in PROBLEM_INTENTS - {"request_human"} and nlu.intent != flow_intent


def _accepts(
    kind: str, text: str, norm: str, nlu: Nlu, lexicon: Lexicon, flow_intent: str | None = None
) -> bool:
    """Whether a reply is a value of the kind the slot expects."""
    digits = sum(ch.isdigit() for ch in norm)
    if kind == "options":
        return False
    if kind == "contact":
        return nlu.has("phone", "email") or "@" in text or "＠" in text or digits >= 5
    if kind == "code":
        return digits >= 4
    if kind == "transaction":
        return nlu.has("time", "amount", "transaction_id") or digits >= 3 or "tx" in norm
    if kind == "time":
        if nlu.has("time") or any(w in norm for w in lexicon.unknown_time):
            return True
        if _another_problem(norm, nlu, flow_intent):
            return False
    if kind == "value":  # a short value in words (a nickname, an address), never a new problem
        if _another_problem(norm, nlu, flow_intent):
            return False
        # the classifier's stop or goodbye on unknown words ("追风少年2026" → goodbye) is a
        # guess; a leaving is said with its words (``_control``) or with a negation
        if nlu.intent in _LEAVING_INTENTS and any(ch in lexicon.negations for ch in norm):
            return False
        if nlu.intent == "request_human":
            nlu = replace(nlu, intent=None)
    return _free_answer(text, norm, nlu, lexicon)


def _free_answer(text: str, norm: str, nlu: Nlu, lexicon: Lexicon) -> bool:
    """Free words answer the question unless they are small talk ("谢谢"), a person (the
    classifier's request_human on a short reply: a description that tells how an agent ended the
    chat is a description; "转人工" itself is read by ``_control``), or a question of their own
    ("客服电话多少？"); leaving needs the words of leaving (see ``_control``).
    The classifier's small-talk guesses on unknown words ("小娜娜" → greet) do not count."""
    if nlu.intent == "request_human" and len(norm) <= _DESCRIPTION:
        return False
    if lexicon.core(norm) in lexicon.smalltalk or norm in lexicon.smalltalk:
        return False
    return not (nlu.intent in _QUESTION_INTENTS and _QUESTION.search(text) and len(norm) <= 24)
