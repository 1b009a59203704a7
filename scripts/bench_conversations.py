"""What the benchmark's users say: 4-turn conversations for each bot, the messages of one long
conversation that keep it going (no goodbye, no handoff, no flow left half-way on purpose), and
the replies that count as errors although they are answered."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Script:
    """One bot's users: the 4-turn conversations, the long conversation's cycle of messages, the
    first message of the readiness probe and the reply texts that are failures in disguise."""

    conversations: tuple[tuple[str, ...], ...]
    long_cycle: tuple[str, ...]
    probe: str
    failures: tuple[str, ...] = ()


# The moodbot's own story and rule paths, so that every message has an answer.
STOCK = Script(
    conversations=(
        ("hello", "I am feeling very sad", "yes", "bye"),
        ("hi", "I am sad", "no", "goodbye"),
        ("hey", "I am great", "are you a bot?", "bye"),
        ("good morning", "I am unhappy", "yes", "see you later"),
    ),
    long_cycle=("hello", "I am great", "are you a bot?", "hi", "I am very happy", "are you a human?"),
    probe="hello",
)

# Greeting → a problem → an answer to the bot's question → thanks. Each exercises the action
# server: the forms' validation actions, the sandbox wallet backend (a reset link sent, a code
# sent), the start of each flow and the company facts. None asks for a person (that would
# queue a handoff).
PROJECT = Script(
    conversations=(
        ("你好", "我忘记密码了，登录不上", "13800138000", "谢谢"),
        ("您好", "我昨天晚上转账失败了", "13912345678", "好的谢谢"),
        ("在吗", "我要投诉", "服务态度", "谢谢你"),
        ("你好", "怎么联系你们的客服", "客服电话是多少", "谢谢"),
        ("哈喽", "密码忘了怎么办", "lina@example.cn", "谢谢啦"),
        ("你好", "我想改一下绑定的手机号", "13800138000", "谢谢"),
    ),
    long_cycle=("你好", "怎么联系客服", "谢谢", "你是机器人吗", "客服电话是多少", "谢谢"),
    probe="你好",
    failures=("系统繁忙",),
)
