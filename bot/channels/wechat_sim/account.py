"""An Official Account's developer settings, as the WeChat admin page shows them."""

from __future__ import annotations

import base64
import json
import re
import secrets
import string
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_API_BASE = "https://api.weixin.qq.com"
_TOKEN = re.compile(r"^[A-Za-z0-9]{3,32}$")
_AES_KEY = re.compile(r"^[A-Za-z0-9]{43}$")
_ALPHANUMERIC = string.ascii_letters + string.digits


class AccountError(ValueError):
    """Settings WeChat's admin page would not accept."""


def _random(length: int, alphabet: str = _ALPHANUMERIC) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class Account:
    """The account's AppID/AppSecret, the server Token and the EncodingAESKey (None: plaintext
    mode), and its original id (``gh_…``), the ToUserName of every message it receives."""

    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str | None = None
    original_id: str = "gh_a1b2c3d4e5f6"

    def __post_init__(self) -> None:
        if not _TOKEN.match(self.token):
            raise AccountError("the Token is 3 to 32 letters or digits")
        if not re.match(r"^wx[0-9a-f]{16}$", self.app_id):
            raise AccountError("an AppID is wx and 16 hexadecimal digits")
        if not re.match(r"^[0-9a-f]{32}$", self.app_secret):
            raise AccountError("an AppSecret is 32 hexadecimal digits")
        if self.encoding_aes_key is not None:
            if not _AES_KEY.match(self.encoding_aes_key):
                raise AccountError("an EncodingAESKey is 43 letters or digits")
            if len(base64.b64decode(self.encoding_aes_key + "=")) != 32:
                raise AccountError("an EncodingAESKey decodes to 32 bytes")

    @property
    def aes_key(self) -> bytes | None:
        """The AES-256 key: base64 of EncodingAESKey + "="."""
        if self.encoding_aes_key is None:
            return None
        return base64.b64decode(self.encoding_aes_key + "=")

    @classmethod
    def generate(cls, safe: bool = True) -> Account:
        """Fresh random settings (safe mode: with an EncodingAESKey)."""
        return cls(
            token=_random(32),
            app_id="wx" + secrets.token_hex(8),
            app_secret=secrets.token_hex(16),
            encoding_aes_key=_random(43) if safe else None,
        )

    def channel_env(self, api_base: str) -> dict[str, str]:
        """The WECHAT_* settings for the Rasa server that talks to this account."""
        env = {
            "WECHAT_TOKEN": self.token,
            "WECHAT_APP_ID": self.app_id,
            "WECHAT_APP_SECRET": self.app_secret,
            "WECHAT_API_BASE": api_base,
        }
        if self.encoding_aes_key is not None:
            env["WECHAT_ENCODING_AES_KEY"] = self.encoding_aes_key
        return env

    def save(self, path: Path) -> None:
        """Write the settings as JSON (the simulator keeps them between runs)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Account:
        """Read settings written by ``save``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise AccountError(f"{path} does not hold an account")
        fields = ("token", "app_id", "app_secret", "encoding_aes_key", "original_id")
        return cls(**{key: data[key] for key in fields if key in data})
