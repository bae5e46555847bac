"""Small helpers shared across layers."""

from __future__ import annotations

import re

_PASSWORD_IN_URL = re.compile(
    r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I
)


def mask_url(text: str) -> str:
    """Replace the password in every `scheme://user:password@host` inside `text` with `***`."""
    return _PASSWORD_IN_URL.sub(lambda m: m.group("head") + "***", text)
