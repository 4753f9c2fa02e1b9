"""Keeping secrets off disk: an API key a server echoes back (in an error body, say) is replaced before
the text reaches an error message, the run log, the manifest or the cache."""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "[redacted]"

#: An Authorization header or a bearer token, whatever key it carries.
_AUTH = re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(bearer\s+)?[^\s\"',}]+|(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


class Redactor:
    """Replaces each known secret value, and anything shaped like an Authorization header, in text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # longest first, so a secret that contains another is replaced whole
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _AUTH.sub(lambda m: (m.group(1) or m.group(3) or "") + (m.group(2) or "") + REDACTED, text)
