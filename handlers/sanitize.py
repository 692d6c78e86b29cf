"""Text from the platforms made safe for everything behind the adapters (SQLite, the embedder, logs).

JSON may carry a lone UTF-16 surrogate ("\\ud800"): Python reads it into a str that cannot be encoded to UTF-8,
so the first SQLite write or embedding of it fails. Each adapter passes incoming text through `clean_text`.
"""
from __future__ import annotations

import logging
import re

log = logging.getLogger(__name__)

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # NUL and other C0 controls, not tab/newline/CR
REPLACEMENT = "\ufffd"


def clean_text(text: str | None, where: str = "") -> str:
    """`text` with lone surrogates replaced by U+FFFD and control characters dropped; logged when it changed."""
    if not text:
        return text or ""
    cleaned, surrogates = _SURROGATE.subn(REPLACEMENT, text)
    cleaned, controls = _CONTROL.subn("", cleaned)
    if surrogates or controls:
        log.warning("%s: replaced %d lone surrogate(s) and dropped %d control character(s) in incoming text",
                    where or "incoming", surrogates, controls)
    return cleaned
