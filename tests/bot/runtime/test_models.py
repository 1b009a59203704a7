"""A model loaded without its training step (bot.runtime.models) predicts exactly what Rasa's
own load predicts: every intent's confidence, every entity."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.utils.tensorflow.models import RasaModel

from bot.runtime import models

pytestmark = pytest.mark.model
TEXTS = [
    "你好",
    "我昨天晚上给李娜转账没成功",
    "昨晚转给李娜的500块失败了",
    "忘记密码了怎么办",
    "我要投诉你们的客服",
    "验证码一直收不到",
    "我想把手机号改成13900001234",
    "转人工",
    "謝謝你們",
    "钱被扣了但是没到账",
    "asdfgh",
    "嗯嗯",
    "第二个",
    "不是这个",
    "👍",
]


def _load(model_path: Path, loader: Any) -> Agent:
    original = RasaModel.load
    RasaModel.load = classmethod(loader)  # type: ignore[method-assign, assignment]
    try:
        return Agent.load(str(model_path))
    finally:
        RasaModel.load = original  # type: ignore[method-assign]


def _predictions(agent: Agent) -> list[Any]:
    async def parse_all() -> list[Any]:
        return [await agent.parse_message(text) for text in TEXTS]

    return [
        (
            p["intent"],
            p["intent_ranking"],
            [{k: e[k] for k in ("entity", "start", "end", "value")} for e in p["entities"]],
        )
        for p in asyncio.run(parse_all())
    ]


def test_both_loads_predict_the_same(model_path: Path) -> None:
    stock = _predictions(_load(model_path, models.stock_load))
    ours = _predictions(_load(model_path, models.load))
    assert ours == stock
    assert {intent["name"] for intent, _, _ in ours} >= {"greet", "transaction_failed", "complaint"}
