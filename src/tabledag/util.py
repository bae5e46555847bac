"""Masking secrets: every URL or message that may carry a password passes through `mask_url`
before it reaches a log line, an error message or a repr."""

from __future__ import annotations

import re

_PASSWORD_IN_USERINFO = re.compile(
    r"(?P<head>[a-z][a-z0-9+.\-]*://[^:/@\s]*:)(?P<pw>[^@\s]*)(?=@)", re.I
)
_SECRET_PARAMETER = re.compile(
    r"(?P<head>[?&;](?:[a-z0-9_.\-]*(?:password|passwd|pwd|secret|token|credential|passphrase|signature)"
    r"[a-z0-9_.\-]*|(?:aws_)?(?:access_)?key(?:_id)?|api_key|private_key|sig)=)"
    r"(?P<value>[^&;#\s'\"]*)",
    re.I,
)


def mask_url(text: str) -> str:
    """`text` with every password-bearing part of a URL replaced by `***`.

    Covers `scheme://user:password@host` and query parameters such as `?password=...`,
    `&pwd=...`, `&token=...`, `&secret_key=...` (the parts drivers accept a secret in).
    """
    text = _PASSWORD_IN_USERINFO.sub(lambda m: m.group("head") + "***", text)
    return _SECRET_PARAMETER.sub(lambda m: m.group("head") + "***", text)
