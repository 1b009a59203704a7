"""Random ids of what the handoff adds to a transcript: images, agent messages, notices.

Lower-case letters only: the tracker store masks every string it stores, and digits in an id
could be read as a phone number or a one-time code; letters never are.
"""

from __future__ import annotations

import re
import secrets
import string

ID_LENGTH = 28  # 26**28: about 131 bits
_ID = re.compile(rf"[a-z]{{{ID_LENGTH}}}")


def new_id() -> str:
    """A random, unguessable id."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(ID_LENGTH))


def is_id(value: object) -> bool:
    """Whether ``value`` has the form of such an id."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None
