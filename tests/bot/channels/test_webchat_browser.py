"""A newcomer completes the bouwsteen 1 jongeren survey in a real browser (Debian chromium,
driven by Playwright) on a phone-sized screen, and the round's completed count rises by one."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from surveys import db, service
from tests.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with demo_server(tmp_path_factory.mktemp("browser")) as demo:
        yield demo.base, demo.database_url


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
            args=CHROMIUM_ARGS,
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
