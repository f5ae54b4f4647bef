"""A newcomer's first hour after ``make demo``, in a real browser (Debian chromium via Playwright).

Admin: log in, create a round from a template, open it, take its survey in the web chat, see the
count rise, re-run the theme analysis of the demo jongeren round and open its themes. Then the
beleidsmedewerker writes a duiding (four questions, an ambitie, an action with an owner), signs
it off and downloads the meeting pack (PDF) and the round's tables (XLSX). Screenshots of the
main pages go to ``docs/screenshots/`` for the README.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, demo_server

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "demo-wachtwoord-2024"  # the public demo password `make demo` prints
ROUND_TITLE = "Jongerenpeiling Demostad voorjaar"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``jeugdstem demo`` data on SQLite, served by uvicorn on a free port."""
    # A short live-refresh interval, so the walk also checks that a half-filled form survives it.
    with demo_server(tmp_path_factory.mktemp("admin-browser"), ADMIN_REFRESH_SECONDS="2") as demo:
        yield demo.base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
        )
        yield b
        b.close()


def _shot(page: Page, name: str, *, full_page: bool = False) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _log_in(page: Page, base: str, role: str) -> None:
    page.goto(f"{base}/admin/login")
    page.get_by_label("E-mailadres").fill(f"{role}@demostad.example")
    page.get_by_label("Wachtwoord").fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    expect(page.get_by_role("heading", name="Rondes", exact=True)).to_be_visible()
    expect(page.locator(".who")).to_contain_text(f"({role})")


def _log_out(page: Page) -> None:
    page.get_by_role("button", name="Uitloggen").click()
    expect(page.get_by_role("heading", name="Inloggen")).to_be_visible()


def _bot_says(page: Page, text: str) -> None:
    expect(page.locator(".msg.bot").last).to_contain_text(text)


def _choose(page: Page, label: str) -> None:
    page.locator(".msg.bot").last.get_by_role("button", name=label, exact=True).click()


def _take_survey(page: Page, chat_url: str) -> None:
    """The bouwsteen 1 jongeren survey, as a 16-year-old from Noord."""
    page.goto(chat_url)
    _bot_says(page, "Doe je mee?")
    page.get_by_role("button", name="Ja, ik doe mee").click()
    _bot_says(page, "Hoe oud ben je?")
    _choose(page, "16 of 17 jaar")
    _bot_says(page, "In welke wijk")
    _choose(page, "Noord")
    _bot_says(page, "Hoe gaat het met je")
    _choose(page, "🙂 (4 van 5)")
    _bot_says(page, "zorgen over")
    page.get_by_label("Jouw antwoord").fill("Het busje naar de sporthal rijdt niet meer")
    page.keyboard.press("Enter")
    _bot_says(page, "Wat gaat er goed")
    page.get_by_label("Jouw antwoord").fill("De nieuwe skatebaan bij het park")
    page.keyboard.press("Enter")
    _bot_says(page, "Hoe veilig")
    _choose(page, "4 (4 van 5)")
    _bot_says(page, "vrije tijd")
    box = page.locator(".msg.bot").last
    box.get_by_label("Sport").check()
    box.get_by_role("button", name="Klaar").click()
    _bot_says(page, "praten")
    _choose(page, "Ja")
    _bot_says(page, "Bedankt")


def _admin_part(browser: Browser, page: Page, base: str) -> None:
    page.goto(f"{base}/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login$"))  # not logged in yet
    _shot(page, "admin-login")
    _log_in(page, base, "admin")

    # A new round from a template, through the form under the rounds table.
    page.get_by_label("Vragenlijst (sjabloon)").select_option(
        label="Hoe gaat het met jongeren hier? (bouwsteen 1; jongeren)"
    )
    page.get_by_label("Titel").fill(ROUND_TITLE)
    page.get_by_label("Wijken (komma's ertussen)").fill("Noord, Zuid, Centrum")
    page.wait_for_timeout(2_500)  # longer than the live refresh: what was typed must stay
    expect(page.get_by_label("Titel")).to_have_value(ROUND_TITLE)
    page.get_by_role("button", name="Ronde aanmaken").click()
    expect(page.get_by_role("heading", name=ROUND_TITLE)).to_be_visible()
    expect(page.locator(".status")).to_have_text("nog niet open")
    page.get_by_role("button", name="Ronde openen").click()
    expect(page.locator(".status")).to_have_text("open")
    expect(page.locator(".qr svg")).to_be_visible()
    _shot(page, "admin-round")
    chat_url = page.get_by_test_id("chat-link").inner_text()
    code = chat_url.rsplit("/", 1)[1]
    assert chat_url == f"{base}/chat/{code}"

    # Take the survey like a jongere would (own browser context: no staff cookie).
    chat = browser.new_context(viewport={"width": 390, "height": 844}, locale="nl-NL")
    _take_survey(chat.new_page(), chat_url)
    chat.close()

    page.get_by_role("link", name="Rondes").click()
    expect(page.get_by_test_id(f"completed-{code}")).to_have_text("1")
    expect(page.get_by_test_id(f"started-{code}")).to_have_text("1")
    _shot(page, "admin-rounds", full_page=True)

    # Re-run the theme analysis of the demo jongeren round and wait for it.
    page.get_by_role("row").filter(has=page.get_by_test_id("completed-demo-jongeren")).get_by_role(
        "link"
    ).first.click()
    page.get_by_role("link", name="Thema's bekijken").click()
    expect(page.get_by_role("heading", name=re.compile("^Thema's:"))).to_be_visible()
    page.get_by_role("button", name="Thema's opnieuw bepalen").click()
    # While the analysis runs the page says so and refreshes itself until it is done.
    expect(page).to_have_url(re.compile(r"/themes$"))
    expect(page.get_by_role("status")).to_have_count(0, timeout=45_000)
    expect(page.get_by_role("table").first).to_contain_text("Deelnemers")
    themes = page.locator("tr[data-theme]")
    assert themes.count() >= 2
    _shot(page, "admin-themes")
    _log_out(page)


def _duiding_part(page: Page, base: str, tmp: Path) -> None:
    _log_in(page, base, "beleidsmedewerker")
    page.get_by_role("link", name="Duiding", exact=True).click()
    page.get_by_label("Titel").fill("Duiding jeugd Demostad 2025")
    rounds = page.get_by_role("group", name="Rondes")
    for title in ("Hoe gaat het met jongeren? (najaar)", "Ouders over hun kinderen (najaar)"):
        rounds.get_by_label(title).check()
    page.get_by_role("button", name="Duiding starten").click()
    expect(page.get_by_role("heading", name="Duiding: Duiding jeugd Demostad 2025")).to_be_visible()

    answers = {
        "herkennen": "We herkennen het beeld: weinig plekken voor jongeren in Noord.",
        "verklaren": "Sinds de sluiting van het jongerencentrum is er minder aanbod.",
        "waarderen": "We willen dat jongeren zich overal welkom voelen.",
        "verbeteren": "Een plek in Noord die jongeren zelf mee inrichten.",
    }
    for key, text in answers.items():
        section = page.locator(f"#q-{key}")
        section.locator("textarea").first.fill(text)
        section.get_by_role("button", name="Opslaan").click()
        expect(page.locator(f"#q-{key} textarea").first).to_have_value(text)

    verbeteren = page.locator("#q-verbeteren")
    verbeteren.get_by_label("Ambitie").fill(
        "Jongeren in Noord hebben een eigen plek om af te spreken"
    )
    options = verbeteren.get_by_label("Thema's erachter").locator("option")
    verbeteren.get_by_label("Thema's erachter").select_option(index=0)
    assert options.count() >= 1
    verbeteren.get_by_role("button", name="Ambitie toevoegen").click()
    expect(page.locator("#q-verbeteren ol li")).to_have_count(1)

    verbeteren = page.locator("#q-verbeteren")
    verbeteren.get_by_label("Actie", exact=True).fill("Jongerenraad kiest een locatie")
    verbeteren.get_by_label("Eigenaar").fill("Team Jeugd, wethouder")
    verbeteren.get_by_label("Klaar op").fill("2025-10-01")
    verbeteren.get_by_role("button", name="Actie toevoegen").click()
    expect(page.locator("#q-verbeteren table")).to_contain_text("Team Jeugd, wethouder")

    page.get_by_label("Naam en functie").fill("M. de Vries, beleidsmedewerker jeugd")
    page.get_by_role("button", name="Versie 1 ondertekenen").click()
    expect(page.get_by_test_id("signed")).to_contain_text("M. de Vries")
    _shot(page, "admin-duiding")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="PDF", exact=True).click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1000

    page.get_by_role("link", name="Vergaderstuk (HTML)").click()
    expect(page.locator("main")).to_contain_text("Jongeren in Noord hebben een eigen plek")
    _shot(page, "admin-pack")

    # The round's tables as Excel, from the themes page of the demo jongeren round.
    page.get_by_role("link", name="Rondes").click()
    page.get_by_role("row").filter(has=page.get_by_test_id("completed-demo-jongeren")).get_by_role(
        "link"
    ).first.click()
    page.get_by_role("link", name="Thema's bekijken").click()
    with page.expect_download() as xlsx_download:
        page.get_by_role("link", name="Excel").click()
    data = Path(xlsx_download.value.path()).read_bytes()
    assert zipfile.is_zipfile(io.BytesIO(data))
    book = load_workbook(io.BytesIO(data), read_only=True)
    assert {"themes", "method"} <= set(book.sheetnames)
    rows = list(book["themes"].iter_rows(values_only=True))
    assert rows[0][:3] == ("theme_id", "label", "respondents")
    counts = [v for row in rows[1:] for v in row[2:3] + row[4:] if v is not None]
    numbers = [v for v in counts if isinstance(v, int | float)]
    assert numbers, "no theme sizes in the export"
    assert all(v % 5 == 0 for v in numbers), "counts are rounded to 5"
    assert all(v == "<k" for v in counts if not isinstance(v, int | float))
    method = dict(row[:2] for row in book["method"].iter_rows(values_only=True))
    assert method["rounding"] == 5
    assert method["k_min"] >= 5
    tmp.joinpath("themes.xlsx").write_bytes(data)


def test_newcomer_walkthrough(server: str, browser: Browser, tmp_path: Path) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="nl-NL", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    _admin_part(browser, page, server)
    _duiding_part(page, server, tmp_path)
    context.close()
