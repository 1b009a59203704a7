"""The jieba user dictionary keeps wallet terms as single tokens in Rasa's tokenizer."""

from pathlib import Path

import pytest
from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer
from rasa.shared.nlu.training_data.message import Message

DICT_DIR = Path("data/dict")


def _dictionary_terms() -> list[str]:
    terms = []
    for path in sorted(DICT_DIR.glob("*.txt")):
        terms += [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return terms


@pytest.fixture(scope="module")
def tokenizer() -> JiebaTokenizer:
    JiebaTokenizer._load_custom_dictionary(str(DICT_DIR))
    return JiebaTokenizer(
        {**JiebaTokenizer.get_default_config(), "dictionary_path": str(DICT_DIR)}, None, None
    )  # type: ignore[arg-type]


def _tokens(tokenizer: JiebaTokenizer, text: str) -> list[str]:
    return [t.text for t in tokenizer.tokenize(Message(data={"text": text}), "text")]


@pytest.mark.parametrize(
    "term", ["联合钱包", "双重验证", "交易记录", "验证码", "人工客服", "转人工", "支付密码", "没到账"]
)
def test_key_terms_stay_single_tokens_in_sentences(tokenizer: JiebaTokenizer, term: str) -> None:
    assert term in _tokens(tokenizer, f"我想问一下{term}的问题")


def test_every_dictionary_term_is_one_token(tokenizer: JiebaTokenizer) -> None:
    split = [term for term in _dictionary_terms() if _tokens(tokenizer, term) != [term]]
    assert split == []


def test_time_words_keep_entity_boundaries(tokenizer: JiebaTokenizer) -> None:
    assert _tokens(tokenizer, "五天前转的") == ["五", "天前", "转", "的"]
    assert "上礼拜五" in _tokens(tokenizer, "上礼拜五付的")


def test_traditional_and_full_width_text_gets_the_tokens_of_the_simplified() -> None:
    from bot.nlu.tokenizer import FoldingJiebaTokenizer

    folding = FoldingJiebaTokenizer(
        {**FoldingJiebaTokenizer.get_default_config(), "dictionary_path": str(DICT_DIR)},
        None,
        None,  # type: ignore[arg-type]
    )
    traditional = folding.tokenize(Message(data={"text": "我的錢包密碼忘記了 １３８"}), "text")
    simplified = folding.tokenize(Message(data={"text": "我的钱包密码忘记了 138"}), "text")
    assert [t.text for t in traditional] == [t.text for t in simplified]
    assert [(t.start, t.end) for t in traditional] == [(t.start, t.end) for t in simplified]
