"""A fake Telegram Bot API server (aiohttp, 127.0.0.1) that records calls and injects faults.

Speaks what aiogram sends (multipart/form-data; nested objects as JSON strings), plus JSON
and urlencoded bodies. ``FakeTelegram.fail(method, times, status=429, retry_after=1)`` makes
the next ``times`` calls of ``method`` fail (429 with ``retry_after``, 500, 403 or 400).
``getUpdates`` serves updates put with :meth:`FakeTelegram.push_update`.

Run standalone (for the bench): ``python -m tests.bot.channels.fake_telegram --port 8081``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 42, "is_bot": True, "first_name": "TestBot", "username": "test_bot"}
ERRORS = {
    400: "Bad Request: message is not modified",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Call:
    """One recorded Bot API call."""

    method: str
    params: dict[str, Any]
    token: str
    at: float = field(default_factory=time.monotonic)
    result: Any = None
    status: int = 200
    content_type: str = ""


@dataclass
class Fault:
    """A queued failure for one method."""

    status: int
    times: int
    retry_after: int = 1


class FakeTelegram:
    """The fake's state: recorded calls, queued faults, queued updates."""

    def __init__(self, *, record: bool = True) -> None:
        self.calls: list[Call] = []
        self.faults: dict[str, list[Fault]] = {}
        self.updates: asyncio.Queue[dict[str, Any]] | None = None
        self.record = record
        self.count = 0
        self.by_method: dict[str, int] = {}
        self._message_id = 1000

    # --- control --------------------------------------------------------------------------

    def fail(self, method: str, times: int = 1, *, status: int = 429, retry_after: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status``."""
        self.faults.setdefault(method, []).append(Fault(status, times, retry_after))

    def reset(self) -> None:
        """Forget calls and faults."""
        self.calls.clear()
        self.faults.clear()
        self.count = 0

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for ``getUpdates`` (polling tests)."""
        if self.updates is None:
            self.updates = asyncio.Queue()
        self.updates.put_nowait(update)

    def of(self, method: str) -> list[Call]:
        """The recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    # --- server ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/_stats", self._stats)
        return app

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response({"count": self.count, "by_method": self.by_method})

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            data = await request.json()
            return dict(data) if isinstance(data, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = value if isinstance(value, str) else str(value)
            if text[:1] in "{[":
                try:
                    params[key] = json.loads(text)
                    continue
                except ValueError:
                    pass
            params[key] = text
        params.update(request.query)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        self.count += 1
        self.by_method[method] = self.by_method.get(method, 0) + 1
        call = Call(method, params, request.match_info["token"], content_type=request.content_type)
        if self.record:
            self.calls.append(call)
        queue = self.faults.get(method)
        if queue:
            fault = queue[0]
            fault.times -= 1
            if fault.times <= 0:
                queue.pop(0)
            call.status = fault.status
            return self._error(fault)
        if method == "getUpdates":
            return await self._get_updates(params)
        call.result = self._result(method, params)
        return web.json_response({"ok": True, "result": call.result})

    def _error(self, fault: Fault) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": fault.status}
        if fault.status == 429:
            body["description"] = f"Too Many Requests: retry after {fault.retry_after}"
            body["parameters"] = {"retry_after": fault.retry_after}
        else:
            body["description"] = ERRORS.get(fault.status, "Error")
        return web.json_response(body, status=fault.status)

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if self.updates is None:
            self.updates = asyncio.Queue()
        result: list[dict[str, Any]] = []
        try:
            result.append(await asyncio.wait_for(self.updates.get(), 0.2))
            while not self.updates.empty():
                result.append(self.updates.get_nowait())
        except TimeoutError:
            pass
        return web.json_response({"ok": True, "result": result})

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        self._message_id += 1
        chat_id = int(params.get("chat_id", 0))
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id", self._message_id)),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"}
            if chat_id > 0
            else {"id": chat_id, "type": "group", "title": "x"},
            "from": BOT_USER,
            "text": params.get("text", ""),
        }
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return self._message(params)
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True


async def serve(
    fake: FakeTelegram, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, int]:
    """Start the fake on ``host:port`` (0 picks a free port); return the runner and port."""
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    return runner, int(sockets[0].getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    fake = FakeTelegram(record=False)

    async def run() -> None:
        runner, port = await serve(fake, port=args.port)
        print(f"fake Bot API on 127.0.0.1:{port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    asyncio.run(run())


if __name__ == "__main__":
    main()
