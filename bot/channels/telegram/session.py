"""An aiogram session that speaks JSON to the Bot API instead of multipart/form-data.

aiogram's stock :class:`AiohttpSession` encodes every call as multipart/form-data with each
nested object JSON-encoded again as a string; building that form is the largest part of a
``sendMessage`` with a keyboard on our side. The Bot API takes ``application/json`` bodies
just as well, so calls without files go out as one JSON document (calls with files, which
we never make, fall back to the stock form). Answers are parsed exactly as aiogram does.

:meth:`JsonSession.post` is the outbox sender's hot path: a plain JSON payload, and only
``ok`` read back from a successful answer. A failed answer goes through aiogram's own
``check_response``, so the sender sees the same exceptions (``TelegramRetryAfter``,
``TelegramForbiddenError`` ...) as from ``bot(method)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramNetworkError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

if TYPE_CHECKING:
    from aiogram import Bot

_JSON = {"Content-Type": "application/json"}


class JsonSession(AiohttpSession):
    """:class:`AiohttpSession` sending JSON bodies (same URLs, timeouts and error mapping)."""

    def build_json(self, bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
        """The call as a JSON body, or ``None`` when it uploads files (multipart needed)."""
        files: dict[str, Any] = {}
        payload: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False, exclude_none=True).items():
            prepared = self.prepare_value(value, bot=bot, files=files, _dumps_json=False)
            if prepared is not None:
                payload[key] = prepared
        if files:
            return None
        return self.json_dumps(payload).encode()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,
    ) -> TelegramType:
        """Send ``method`` as JSON (multipart only if it has files) and parse the answer."""
        body = self.build_json(bot, method)
        if body is None:
            return await super().make_request(bot, method, timeout)
        status, raw_result = await self._send(
            bot, method.__api_method__, body, timeout, lambda: method
        )
        response = self.check_response(
            bot=bot, method=method, status_code=status, content=raw_result
        )
        return cast(TelegramType, response.result)

    async def post(
        self,
        bot: Bot,
        method: type[TelegramMethod[Any]],
        payload: dict[str, Any],
        timeout: int | None = None,
    ) -> None:
        """Call ``method`` with a ready JSON ``payload``; raise as aiogram would.

        Args:
            bot: The bot (token and API server).
            method: The aiogram method class: it gives the API name, and an instance is
                built from ``payload`` only for the exception of a failed call.
            payload: The parameters, JSON-serialisable as they are.
            timeout: Seconds, or the session's timeout.

        Raises:
            TelegramAPIError: What ``bot(method(**payload))`` would raise for the same answer.
            TelegramNetworkError: Timeout or connection failure.
        """

        def failed() -> TelegramMethod[Any]:
            return method(**payload)

        body = self.json_dumps(payload).encode()
        status, raw_result = await self._send(bot, method.__api_method__, body, timeout, failed)
        if HTTPStatus.OK <= status <= HTTPStatus.IM_USED:
            try:
                answer = json.loads(raw_result)
            except ValueError as e:
                raise ClientDecodeError("Failed to decode object", e, raw_result) from e
            if isinstance(answer, dict) and answer.get("ok") is True:
                return
        # Not ok: aiogram's own mapping raises the matching exception.
        self.check_response(bot=bot, method=failed(), status_code=status, content=raw_result)
        raise ClientDecodeError("Answer is neither ok nor an error", ValueError(status), raw_result)

    async def _send(
        self,
        bot: Bot,
        api_method: str,
        body: bytes,
        timeout: int | None,
        failed: Callable[[], TelegramMethod[Any]],
    ) -> tuple[int, str]:
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=api_method)
        try:
            async with session.post(
                url,
                data=body,
                headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                return resp.status, await resp.text()
        except (TimeoutError, ClientError) as e:
            # The name of the error only: its text can hold the URL, and the URL the token.
            reason = "Request timeout error" if isinstance(e, TimeoutError) else type(e).__name__
            raise TelegramNetworkError(method=failed(), message=reason) from e
