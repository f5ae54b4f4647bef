"""A newcomer completes the bouwsteen 1 jongeren survey in a real browser (Debian chromium,
driven by Playwright) on a phone-sized screen, and the round's completed count rises by one."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from surveys import db, service

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# `make screenshots` sets this to docs/screenshots; by default the tests leave the tree alone.
SCREENSHOTS = Path(
    os.environ.get("JEUGDSTEM_SCREENSHOTS") or tempfile.mkdtemp(prefix="jeugdstem-shots-")
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('browser')}/demo.db"
    subprocess.run(
        [sys.executable, "-m", "jeugdstem", "demo", "--no-serve", "--database-url", url],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, ADMIN_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "jeugdstem.asgi:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{base}/chat/static/chat.css").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield base, url
    proc.terminate()
    proc.wait(timeout=10)


def _completed(url: str) -> int:
    async def count() -> int:
        engine = db.create_engine(url)
        async with db.create_sessionmaker(engine)() as session:
            rounds = await service.list_rounds(session)
        await engine.dispose()
        return next(r.completed for r in rounds if r.round.start_code == "demo-jongeren")

    return asyncio.run(count())


def _answer_button(page: Page, label: str) -> None:
    page.locator(".msg.bot").last.get_by_role("button", name=label, exact=True).click()


def _wait_for_bot(page: Page, text: str) -> None:
    expect(page.locator(".msg.bot").last).to_contain_text(text)


def test_complete_survey_on_a_phone(server: tuple[str, str]) -> None:
    base, url = server
    before = _completed(url)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="nl-NL")
        page.goto(f"{base}/chat/demo-jongeren")
        _wait_for_bot(page, "Doe je mee?")
        page.wait_for_timeout(400)
        page.screenshot(path=str(SCREENSHOTS / "webchat-consent.png"))
        # Keyboard only for consent: the first button has focus after the message arrives.
        expect(page.get_by_role("button", name="Ja, ik doe mee")).to_be_focused()
        page.keyboard.press("Enter")
        _wait_for_bot(page, "Hoe oud ben je?")
        _answer_button(page, "16 of 17 jaar")
        _wait_for_bot(page, "In welke wijk")
        _answer_button(page, "Noord")
        _wait_for_bot(page, "Hoe gaat het met je")
        _answer_button(page, "🙂 (4 van 5)")
        _wait_for_bot(page, "zorgen over")
        page.get_by_label("Jouw antwoord").fill("Te weinig plekken om 's avonds te chillen")
        page.keyboard.press("Enter")
        _wait_for_bot(page, "Wat gaat er goed")
        page.get_by_role("button", name="Terug").click()  # go back one question
        _wait_for_bot(page, "zorgen over")
        page.get_by_label("Jouw antwoord").fill("Te weinig plekken om 's avonds te chillen")
        page.get_by_role("button", name="Stuur").click()
        _wait_for_bot(page, "Wat gaat er goed")
        page.get_by_label("Jouw antwoord").fill("overslaan")
        page.keyboard.press("Enter")
        _wait_for_bot(page, "Hoe veilig")
        _answer_button(page, "4 (4 van 5)")
        _wait_for_bot(page, "vrije tijd")
        box = page.locator(".msg.bot").last
        box.get_by_label("Sport").check()
        box.get_by_label("Muziek of kunst").check()
        box.get_by_role("button", name="Klaar").click()
        _wait_for_bot(page, "praten")
        _answer_button(page, "Ja")
        _wait_for_bot(page, "Bedankt")
        page.wait_for_timeout(400)  # let the fade-in finish for the documentation screenshot
        page.screenshot(path=str(SCREENSHOTS / "webchat-done.png"))
        # Old buttons cannot answer twice.
        assert page.locator(".choices button:not([disabled])").count() == 0
        browser.close()
    assert _completed(url) == before + 1
