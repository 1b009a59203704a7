"""WeChat's API answers: HTTP 200 with ``errcode``/``errmsg`` (errmsg ends in a request id, as
WeChat's do, so a client that matches on errmsg instead of errcode fails here too)."""

from __future__ import annotations

import secrets
from typing import Any

OK = 0
SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_MEDIA_ID = 40007
INVALID_MESSAGE_TYPE = 40008
INVALID_APPID = 40013
INVALID_ACCESS_TOKEN = 40014
INVALID_BUTTON_SIZE = 40016
INVALID_BUTTON_TYPE = 40017
INVALID_BUTTON_NAME_SIZE = 40018
INVALID_BUTTON_KEY_SIZE = 40019
INVALID_BUTTON_URL_SIZE = 40022
INVALID_SUB_BUTTON_SIZE = 40023
INVALID_SUB_BUTTON_TYPE = 40024
INVALID_SUB_BUTTON_NAME_SIZE = 40025
INVALID_SUB_BUTTON_KEY_SIZE = 40026
INVALID_CHARSET = 40033
INVALID_APPSECRET = 40125
ACCESS_TOKEN_MISSING = 41001
MEDIA_ID_MISSING = 41006
ACCESS_TOKEN_EXPIRED = 42001
EMPTY_POST_DATA = 44002
EMPTY_CONTENT = 44004
CONTENT_TOO_LONG = 45002
DAILY_LIMIT = 45009
WINDOW_CLOSED = 45015
QUOTA_USED = 45047
MENU_MISSING = 46003
DATA_FORMAT_ERROR = 47001

MESSAGES = {
    OK: "ok",
    SYSTEM_BUSY: "system error",
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_OPENID: "invalid openid",
    INVALID_MEDIA_ID: "invalid media_id",
    INVALID_MESSAGE_TYPE: "invalid message type",
    INVALID_APPID: "invalid appid",
    INVALID_ACCESS_TOKEN: "invalid access_token",
    INVALID_BUTTON_SIZE: "invalid button size",
    INVALID_BUTTON_TYPE: "invalid button type",
    INVALID_BUTTON_NAME_SIZE: "invalid button name size",
    INVALID_BUTTON_KEY_SIZE: "invalid button key size",
    INVALID_BUTTON_URL_SIZE: "invalid button url size",
    INVALID_SUB_BUTTON_SIZE: "invalid sub button size",
    INVALID_SUB_BUTTON_TYPE: "invalid sub button type",
    INVALID_SUB_BUTTON_NAME_SIZE: "invalid sub button name size",
    INVALID_SUB_BUTTON_KEY_SIZE: "invalid sub button key size",
    INVALID_CHARSET: "invalid charset. please check your request, if include \\uxxxx will create fail!",
    INVALID_APPSECRET: "invalid appsecret",
    ACCESS_TOKEN_MISSING: "access_token missing",
    MEDIA_ID_MISSING: "media_id missing",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    EMPTY_POST_DATA: "empty post data",
    EMPTY_CONTENT: "empty content",
    CONTENT_TOO_LONG: "content size out of limit",
    DAILY_LIMIT: "reach max api daily quota limit",
    WINDOW_CLOSED: "response out of time limit or subscription is canceled",
    QUOTA_USED: "out of response count limit",
    MENU_MISSING: "menu no exist",
    DATA_FORMAT_ERROR: "data format error",
}

# The errors after which a client should fetch a new access_token.
TOKEN_ERRORS = frozenset({INVALID_CREDENTIAL, INVALID_ACCESS_TOKEN, ACCESS_TOKEN_EXPIRED})


class ApiError(Exception):
    """An API call WeChat refuses; ``answer()`` is its JSON body, sent as ``content_type``."""

    def __init__(self, errcode: int, content_type: str = "application/json") -> None:
        """Refuse with ``errcode`` (one of this module's constants)."""
        super().__init__(f"{errcode} {MESSAGES.get(errcode, '')}")
        self.errcode = errcode
        self.content_type = content_type

    def answer(self) -> dict[str, Any]:
        """The body WeChat sends."""
        return answer(self.errcode)


def answer(errcode: int) -> dict[str, Any]:
    """``{"errcode", "errmsg"}`` as WeChat writes them (errors carry a ``rid``)."""
    message = MESSAGES.get(errcode, "unknown error")
    if errcode != OK:
        message = f"{message} rid: {secrets.token_hex(4)}-{secrets.token_hex(6)}"
    return {"errcode": errcode, "errmsg": message}
