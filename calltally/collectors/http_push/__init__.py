"""http-push: cloud PBXs and scripts POST raw records to /push/<connection id>/.

The endpoint is a view of the web server (``views.py``); the collector itself
only reports that the connection is served there.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from typing import Any

from ..base import Collector, ConfigError, Secret
from ..common import check_unknown, int_option

DEFAULT_MAX_BODY = 10 * 1024 * 1024


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(hash_token(token), stored_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


class HttpPushCollector(Collector):
    kind = "http-push"
    description = "HTTP push: POST records to /push/<connection id>/ with Authorization: Bearer <token>"
    options = {
        "token": Secret("the bearer token (stored hashed; generated and shown once by `connection add` if omitted)",
                        hashed_as="token_sha256", hasher=hash_token),
        "max_body": "largest request body in bytes (default 10485760); larger ones get 413",
    }

    @classmethod
    def validate(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        check_unknown(parameters, cls.options, extra=("token_sha256",))
        result = dict(parameters)
        token = result.pop("token", None)
        if token is not None:
            token = str(token)
            if len(token) < 16:
                raise ConfigError("option token must be at least 16 characters (or leave it out to get one).")
            result["token_sha256"] = hash_token(token)
        if not result.get("token_sha256"):
            raise ConfigError("option token is required (leave it out of `connection add` to get one).")
        result["max_body"] = int_option(parameters, "max_body", DEFAULT_MAX_BODY, 1024, 1024 * 1024 * 1024)
        return result

    async def run(self) -> None:
        self.status.set("listening", f"via the web server at /push/{self.config.id}/")
        await asyncio.Event().wait()

    async def test(self) -> str:
        return (f"OK: records are accepted by the web server at /push/{self.config.id}/ "
                "(POST with Authorization: Bearer <token>)")
