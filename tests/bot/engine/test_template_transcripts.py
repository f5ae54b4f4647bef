"""Transcripts for every shipped template: inbound list -> expected question keys.

The expected key sequences and stored answers below were written by reading the YAML in
``surveys/templates/``; they are deliberately NOT derived from ``definition.questions`` or by
running the engine, so a change to a template or to the engine shows up here as a diff.

Each step is ``(inbound, expected question_key of the LAST outbound message)``, optionally with
a third element: a text that must appear in that last message (an error or "not skippable"
prefix from the catalogue). ``None`` as the expected key means the outro (the survey is done).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.engine.catalogue import default_catalogue
from bot.engine.flow import (
    CONSENT_NO,
    CONSENT_YES,
    FREE_TEXT_MARK,
    Progress,
    RoundContext,
    Step,
    step,
)
from bot.engine.messages import AnswerValue, Complete, DeleteAnswer, Inbound, StoreAnswer
from surveys.definitions import Definition, load_templates
from surveys.privacy.safeguarding import NO_SIGNAL, help_card

CAT = default_catalogue()
CTX = RoundContext(
    places={
        "wijk": ["Centrum", "Noord", "De Hoven"],
        "school": ["Het Baken", "Da Vinci College"],
        "klas": ["1A", "2B"],
    }
)
TEMPLATE_KEYS = {
    "bouwsteen1-jongeren",
    "bouwsteen1-ouders",
    "bouwsteen1-professionals",
    "bouwsteen5-exit-ticket",
    "armoede-ouders",
    "school-npo-jongeren",
    "sgg-jongeren",
}
SENSITIVE = {"armoede-ouders", "sgg-jongeren"}


@pytest.fixture(scope="module")
def templates() -> dict[str, Definition]:
    return load_templates()


@dataclass(frozen=True)
class Btn:
    """A pressed button (``Inbound.choice``) rather than typed text."""

    value: str


Send = str | Btn
TranscriptStep = tuple[Send, str | None] | tuple[Send, str | None, str]


def ans(key: str, value: AnswerValue) -> StoreAnswer:
    return StoreAnswer(key, value)


def txt(key: str, text: str, kind: str) -> StoreAnswer:
    return StoreAnswer(key, FREE_TEXT_MARK, text, kind)


@dataclass(frozen=True)
class Transcript:
    template: str
    name: str
    steps: tuple[TranscriptStep, ...]
    stored: tuple[StoreAnswer, ...]

    @property
    def id(self) -> str:
        return f"{self.template}:{self.name}"


@dataclass
class Run:
    definition: Definition
    context: RoundContext = CTX
    progress: Progress = Progress()
    last: Step | None = None
    n: int = 0
    stored: dict[str, StoreAnswer] = field(default_factory=dict)
    completes: int = 0
    visited: set[str] = field(default_factory=set)

    def send(self, message: Send) -> Step:
        self.n += 1
        text, choice = (None, message.value) if isinstance(message, Btn) else (message, None)
        inbound = Inbound("test", "addr", f"e{self.n}", text=text, choice=choice)
        self.last = step(
            self.definition, self.progress, inbound, context=self.context, catalogue=CAT
        )
        self.progress = self.last.progress
        for effect in self.last.effects:
            if isinstance(effect, StoreAnswer):
                self.stored[effect.question_key] = effect
            elif isinstance(effect, DeleteAnswer):
                self.stored.pop(effect.question_key, None)
            elif isinstance(effect, Complete):
                self.completes += 1
        for out in self.last.outbound:
            if out.question_key:
                self.visited.add(out.question_key)
        return self.last


TRANSCRIPTS: tuple[Transcript, ...] = (
    # ------------------------------------------------------------------ bouwsteen1-jongeren
    Transcript(
        "bouwsteen1-jongeren",
        "main",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            (Btn("16-17"), "wijk"),
            ("Noord", "welbevinden"),
            (Btn("4"), "zorg"),
            ("Te weinig plekken om te chillen", "kans"),
            ("Het jongerencentrum", "veilig"),
            ("3", "vrije_tijd"),
            ("sport, muziek", "vertrouwen"),
            ("ja", None),  # signaal is only asked after "nee"
        ),
        (
            ans("leeftijd", "16-17"),
            ans("wijk", "noord"),
            ans("welbevinden", "4"),
            txt("zorg", "Te weinig plekken om te chillen", "zorg"),
            txt("kans", "Het jongerencentrum", "kans"),
            ans("veilig", "3"),
            ans("vrije_tijd", ["sport", "muziek"]),
            ans("vertrouwen", "ja"),
        ),
    ),
    Transcript(
        "bouwsteen1-jongeren",
        "skip-back-and-signaal",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            ("1", "wijk"),
            ("overslaan", "welbevinden"),
            ("😞", "zorg"),
            ("terug", "welbevinden"),
            ("🙂", "zorg"),
            ("overslaan", "kans"),
            ("overslaan", "veilig"),
            ("overslaan", "veilig", CAT.get("not_skippable")),
            ("5", "vrije_tijd"),
            ("4 en 1", "vertrouwen"),
            ("Nee.", "signaal"),
            ("Als er iemand op school is", None),
        ),
        (
            ans("leeftijd", "12-15"),
            ans("welbevinden", "4"),
            ans("veilig", "5"),
            ans("vrije_tijd", ["sport", "online"]),
            ans("vertrouwen", "nee"),
            txt("signaal", "Als er iemand op school is", "signaal"),
        ),
    ),
    # -------------------------------------------------------------------- bouwsteen1-ouders
    Transcript(
        "bouwsteen1-ouders",
        "main",
        (
            (Btn(CONSENT_YES), "kind_leeftijd"),
            (Btn("4-11"), "wijk"),
            ("Centrum", "welbevinden_kind"),
            ("3", "zorgen_onderwerp"),
            ("1,5", "zorg"),
            ("Veel huiswerk en stress", "kans"),
            ("Ze heeft goede vriendinnen", "signaal"),
            ("overslaan", "hulp_bekend"),
            ("ja", None),  # hulp_mist is only asked after "nee"
        ),
        (
            ans("kind_leeftijd", "4-11"),
            ans("wijk", "centrum"),
            ans("welbevinden_kind", "3"),
            ans("zorgen_onderwerp", ["school", "online"]),
            txt("zorg", "Veel huiswerk en stress", "zorg"),
            txt("kans", "Ze heeft goede vriendinnen", "kans"),
            ans("hulp_bekend", "ja"),
        ),
    ),
    Transcript(
        "bouwsteen1-ouders",
        "geen-zorgen-and-hulp-mist",
        (
            (Btn(CONSENT_YES), "kind_leeftijd"),
            ("12 tot en met 17 jaar", "wijk"),
            (Btn("anders"), "welbevinden_kind"),
            ("2", "zorgen_onderwerp"),
            ("1,2,3,4", "zorgen_onderwerp", CAT.get("too_many", max=3)),  # max_choices: 3
            ("Geen zorgen", "kans"),  # zorg: not_in [geen]
            ("overslaan", "signaal"),
            ("overslaan", "hulp_bekend"),
            ("nee", "hulp_mist"),
            ("Een folder van het CJG", None),
        ),
        (
            ans("kind_leeftijd", "12-17"),
            ans("wijk", "anders"),
            ans("welbevinden_kind", "2"),
            ans("zorgen_onderwerp", ["geen"]),
            ans("hulp_bekend", "nee"),
            txt("hulp_mist", "Een folder van het CJG", "signaal"),
        ),
    ),
    # ------------------------------------------------------------- bouwsteen1-professionals
    Transcript(
        "bouwsteen1-professionals",
        "main",
        (
            (Btn(CONSENT_YES), "rol"),
            ("Jongerenwerk", "wijk"),
            ("De hele gemeente", "leeftijd_doelgroep"),
            ("3,4", "verandering"),
            ("slechter", "signaal"),
            ("Meer jongeren met schulden", "setting"),
            ("wijk, online", "zorg"),
            ("overslaan", "kans"),
            ("Samenwerking met scholen", "doorverwijzen"),
            ("4", None),
        ),
        (
            ans("rol", "jongerenwerk"),
            ans("wijk", "hele_gemeente"),
            ans("leeftijd_doelgroep", ["12-17", "18-23"]),
            ans("verandering", "slechter"),
            txt("signaal", "Meer jongeren met schulden", "signaal"),
            ans("setting", ["wijk", "online"]),
            txt("kans", "Samenwerking met scholen", "kans"),
            ans("doorverwijzen", "4"),
        ),
    ),
    Transcript(
        "bouwsteen1-professionals",
        "no-change-no-signaal",
        (
            (Btn(CONSENT_YES), "rol"),
            (Btn("leerkracht"), "wijk"),
            ("Noord", "leeftijd_doelgroep"),
            ("terug", "wijk"),
            ("overslaan", "leeftijd_doelgroep"),
            ("12", "verandering"),  # "12" typed for options 1 and 2
            ("Ongeveer hetzelfde", "setting"),  # signaal: in [beter, slechter]
            ("terug", "verandering"),
            ("weet ik niet", "setting"),
            ("overslaan", "zorg"),
            ("overslaan", "kans"),
            ("overslaan", "doorverwijzen"),
            ("zes", "doorverwijzen", CAT.get("invalid_scale")),
            ("5", None),
        ),
        (
            ans("rol", "leerkracht"),
            ans("leeftijd_doelgroep", ["0-3", "4-11"]),
            ans("verandering", "weet_niet"),
            ans("doorverwijzen", "5"),
        ),
    ),
    # --------------------------------------------------------------- bouwsteen5-exit-ticket
    Transcript(
        "bouwsteen5-exit-ticket",
        "main",
        (
            (Btn(CONSENT_YES), "waardering"),
            ("😀", "opbrengst"),
            ("Plezier gehad", "terugkomen"),
            ("ja", "verbeterpunt"),
            ("Meer tijd om te oefenen", "leeftijd"),
            ("2", None),
        ),
        (
            ans("waardering", "5"),
            ans("opbrengst", ["plezier"]),
            ans("terugkomen", "ja"),
            txt("verbeterpunt", "Meer tijd om te oefenen", "kans"),
            ans("leeftijd", "16-17"),
        ),
    ),
    Transcript(
        "bouwsteen5-exit-ticket",
        "errors-back-and-skips",
        (
            (Btn(CONSENT_YES), "waardering"),
            ("overslaan", "waardering", CAT.get("not_skippable")),
            ("3", "opbrengst"),
            ("hallo", "opbrengst", CAT.get("invalid_multiple")),
            ("2; 1", "terugkomen"),
            ("terug", "opbrengst"),
            ("6", "terugkomen"),
            ("misschien", "terugkomen", CAT.get("invalid_choice")),
            ("nee", "verbeterpunt"),
            ("overslaan", "leeftijd"),
            ("overslaan", None),
        ),
        (
            ans("waardering", "3"),
            ans("opbrengst", ["niets"]),
            ans("terugkomen", "nee"),
        ),
    ),
    # ----------------------------------------------------------------------- armoede-ouders
    Transcript(
        "armoede-ouders",
        "main",
        (
            (Btn(CONSENT_YES), "kind_leeftijd"),
            (Btn("4-11"), "wijk"),
            ("De Hoven", "meedoen"),
            ("1,2", "drempel"),
            ("kosten, spullen", "school_meedoen"),
            ("nee", "regelingen_bekend"),
            ("ja", "regelingen_gebruik"),
            ("Het Jeugdfonds", "geldzorgen"),
            ("vaak", "zorg"),
            ("Nieuwe schoenen voor sport", "kans"),
            ("overslaan", None),
        ),
        (
            ans("kind_leeftijd", "4-11"),
            ans("wijk", "de-hoven"),
            ans("meedoen", ["sport", "zwemles"]),
            ans("drempel", ["kosten", "spullen"]),
            ans("school_meedoen", "nee"),
            ans("regelingen_bekend", "ja"),
            ans("regelingen_gebruik", ["jeugdfonds"]),
            ans("geldzorgen", "vaak"),
            txt("zorg", "Nieuwe schoenen voor sport", "zorg"),
        ),
    ),
    Transcript(
        "armoede-ouders",
        "regelingen-onbekend-geen-geldzorgen",
        (
            (Btn(CONSENT_YES), "kind_leeftijd"),
            ("0-3", "wijk"),
            ("overslaan", "meedoen"),
            (Btn("niets"), "drempel"),
            ("Niets, het lukt goed", "school_meedoen"),
            ("ja", "regelingen_bekend"),
            ("nee", "geldzorgen"),  # regelingen_gebruik: only after "ja"
            ("Nooit", "kans"),  # zorg: only for soms / vaak / bijna_altijd
            ("Een pas voor de bibliotheek", None),
        ),
        (
            ans("kind_leeftijd", "0-3"),
            ans("meedoen", ["niets"]),
            ans("drempel", ["niets"]),
            ans("school_meedoen", "ja"),
            ans("regelingen_bekend", "nee"),
            ans("geldzorgen", "nooit"),
            txt("kans", "Een pas voor de bibliotheek", "kans"),
        ),
    ),
    Transcript(
        "armoede-ouders",
        "every-money-question-skipped",
        (
            (Btn(CONSENT_YES), "kind_leeftijd"),
            (Btn("12-17"), "wijk"),
            ("overslaan", "meedoen"),
            ("overslaan", "drempel"),
            ("overslaan", "school_meedoen"),
            ("overslaan", "regelingen_bekend"),
            ("overslaan", "geldzorgen"),  # unanswered regelingen_bekend: no regelingen_gebruik
            ("overslaan", "kans"),  # unanswered geldzorgen: no zorg
            ("overslaan", None),
        ),
        (ans("kind_leeftijd", "12-17"),),
    ),
    # ------------------------------------------------------------------ school-npo-jongeren
    Transcript(
        "school-npo-jongeren",
        "main",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            ("12 tot en met 15 jaar", "school"),
            ("Het Baken", "welbevinden_school"),
            ("🙂", "erbij_horen"),
            ("4", "druk"),
            ("5", "steun_school"),
            ("ja", "belangrijkste_zorg"),  # steun_mist: only after "nee"
            ("Pesten", "zorg"),
            ("Vooral online in groepsapps", "kans"),
            ("Meer pauze", None),
        ),
        (
            ans("leeftijd", "12-15"),
            ans("school", "het-baken"),
            ans("welbevinden_school", "4"),
            ans("erbij_horen", "4"),
            ans("druk", "5"),
            ans("steun_school", "ja"),
            ans("belangrijkste_zorg", "pesten"),
            txt("zorg", "Vooral online in groepsapps", "zorg"),
            txt("kans", "Meer pauze", "kans"),
        ),
    ),
    Transcript(
        "school-npo-jongeren",
        "geen-steun-geen-zorg",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            (Btn("16-17"), "school"),
            ("2", "welbevinden_school"),
            ("1", "erbij_horen"),
            ("2", "druk"),
            ("3", "steun_school"),
            ("nee", "steun_mist"),
            ("overslaan", "belangrijkste_zorg"),
            ("8", "kans"),  # option 8 = geen; zorg: not_in [geen]
            ("terug", "belangrijkste_zorg"),
            (Btn("onrust"), "zorg"),
            ("terug", "belangrijkste_zorg"),
            (Btn("geen"), "kans"),
            ("overslaan", None),
        ),
        (
            ans("leeftijd", "16-17"),
            ans("school", "da-vinci-college"),
            ans("welbevinden_school", "1"),
            ans("erbij_horen", "2"),
            ans("druk", "3"),
            ans("steun_school", "nee"),
            ans("belangrijkste_zorg", "geen"),
        ),
    ),
    # ------------------------------------------------------------------------- sgg-jongeren
    Transcript(
        "sgg-jongeren",
        "main",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            ("3", "wijk"),
            ("Centrum", "veilig_omgang"),
            ("3", "plekken"),
            ("uitgaan, online", "nee_zeggen"),
            ("2", "beelden_delen"),
            ("Soms", "vertrouwen"),
            ("ja", "bij_wie"),  # drempel: only after "nee"
            ("1,4", "zorg"),
            ("Groepsapps waar foto's rondgaan", "wat_helpt"),
            ("Lessen over grenzen", None),
        ),
        (
            ans("leeftijd", "18-23"),
            ans("wijk", "centrum"),
            ans("veilig_omgang", "3"),
            ans("plekken", ["online", "uitgaan"]),
            ans("nee_zeggen", "2"),
            ans("beelden_delen", "soms"),
            ans("vertrouwen", "ja"),
            ans("bij_wie", ["vriend", "jongerenwerk"]),
            txt("zorg", "Groepsapps waar foto's rondgaan", "zorg"),
            txt("wat_helpt", "Lessen over grenzen", "kans"),
        ),
    ),
    Transcript(
        "sgg-jongeren",
        "skips-and-drempel",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            (Btn("12-15"), "wijk"),
            ("overslaan", "veilig_omgang"),
            ("overslaan", "plekken"),
            ("overslaan", "nee_zeggen"),
            ("overslaan", "beelden_delen"),
            ("overslaan", "vertrouwen"),
            ("nee", "drempel"),  # bij_wie: only after "ja"
            ("Weten dat het anoniem is", "zorg"),
            ("overslaan", "wat_helpt"),
            ("overslaan", None),
        ),
        (
            ans("leeftijd", "12-15"),
            ans("vertrouwen", "nee"),
            txt("drempel", "Weten dat het anoniem is", "signaal"),
        ),
    ),
    Transcript(
        "sgg-jongeren",
        "vertrouwen-skipped",
        (
            (Btn(CONSENT_YES), "leeftijd"),
            ("1", "wijk"),
            ("overslaan", "veilig_omgang"),
            ("overslaan", "plekken"),
            ("overslaan", "nee_zeggen"),
            ("overslaan", "beelden_delen"),
            ("overslaan", "vertrouwen"),
            ("overslaan", "zorg"),  # unanswered vertrouwen: neither bij_wie nor drempel
            ("overslaan", "wat_helpt"),
            ("overslaan", None),
        ),
        (ans("leeftijd", "12-15"),),
    ),
)


def begin(definition: Definition) -> Run:
    """Open the conversation and check the consent message (the transcript gives consent)."""
    run = Run(definition)
    first = run.send("/start")
    assert [c.value for c in first.outbound[-1].choices] == [CONSENT_YES, CONSENT_NO]
    assert definition.intro.nl.strip() in first.outbound[-1].text
    assert run.progress.state == "consent"
    return run


def play(run: Run, transcript: Transcript, *, hulp_each_step: bool = False) -> None:
    """Send every inbound of ``transcript`` and check the key of the last outbound message."""
    for number, entry in enumerate(transcript.steps, 1):
        inbound, expected = entry[0], entry[1]
        if hulp_each_step and run.progress.state == "asking":
            assert_hulp_leaves_progress(run)
        s = run.send(inbound)
        where = f"{transcript.id} step {number} ({inbound!r})"
        assert s.outbound, where
        assert s.outbound[-1].question_key == expected, where
        if len(entry) == 3:
            assert entry[2] in s.outbound[-1].text, where  # type: ignore[misc]
        if expected is not None:
            assert run.progress.state == "asking", where
            assert run.progress.current == expected, where


def assert_hulp_leaves_progress(run: Run) -> None:
    before = run.progress
    current = before.current
    s = run.send("hulp")
    assert len(s.outbound) == 1, current
    assert "0800-0432" in s.outbound[0].text, current
    assert "113" in s.outbound[0].text, current
    assert s.outbound[0].text == help_card(NO_SIGNAL), current
    assert s.effects == (), current
    assert run.progress == before, current


def test_every_template_has_transcripts(templates: dict[str, Definition]) -> None:
    assert set(templates) == TEMPLATE_KEYS
    for key in TEMPLATE_KEYS:
        assert sum(t.template == key for t in TRANSCRIPTS) >= 2, key


@pytest.mark.parametrize("transcript", TRANSCRIPTS, ids=lambda t: t.id)
def test_transcript(templates: dict[str, Definition], transcript: Transcript) -> None:
    definition = templates[transcript.template]
    run = begin(definition)
    play(run, transcript)
    assert transcript.steps[-1][1] is None

    last = run.last
    assert last is not None
    assert run.progress.state == "done"
    assert run.progress.current is None
    assert last.effects[-1] == Complete()
    assert run.completes == 1
    assert [o.text for o in last.outbound] == [definition.outro.nl]

    expected = {a.question_key: a for a in transcript.stored}
    assert run.stored == expected
    assert dict(run.progress.answers) == {k: a.value for k, a in expected.items()}

    # after the outro the survey is closed for this participant
    assert run.send("ja").outbound[0].text == CAT.get("already_done")


@pytest.mark.parametrize("key", sorted(TEMPLATE_KEYS))
def test_hulp_during_any_question(templates: dict[str, Definition], key: str) -> None:
    """``hulp`` at every question of every transcript gives the help card, progress untouched.

    For the sensitive templates the transcripts together must reach every question, so the
    help card is checked during each of them (and after the outro, which says "Typ hulp").
    """
    definition = templates[key]
    assert definition.sensitive == (key in SENSITIVE)
    visited: set[str] = set()
    for transcript in (t for t in TRANSCRIPTS if t.template == key):
        run = begin(definition)
        assert_hulp_leaves_progress(run)  # at the consent question too
        play(run, transcript, hulp_each_step=True)
        assert run.progress.state == "done"
        assert_hulp_leaves_progress(run)
        visited |= run.visited
    if definition.sensitive:
        assert visited == {q.key for q in definition.questions}
        assert "hulp" in definition.intro.nl
        assert "hulp" in definition.outro.nl


# ----------------------------------------------------------------------- bugs found (failing)


@pytest.mark.parametrize(
    ("key", "first", "second"),
    [
        ("armoede-ouders", "kind_leeftijd", "wijk"),
        ("sgg-jongeren", "leeftijd", "wijk"),
    ],
)
def test_sensitive_intro_promise_every_question_can_be_skipped(
    templates: dict[str, Definition], key: str, first: str, second: str
) -> None:
    """BUG: the intro says "elke vraag overslaan" / "skip any question", but the age question
    of the sensitive templates is not optional, so ``overslaan`` is refused there."""
    definition = templates[key]
    assert "elke vraag overslaan" in definition.intro.nl
    assert "skip any question" in definition.intro.en
    run = begin(definition)
    assert run.send(Btn(CONSENT_YES)).outbound[-1].question_key == first
    s = run.send("overslaan")
    assert CAT.get("not_skippable") not in s.outbound[-1].text
    assert s.outbound[-1].question_key == second


@pytest.mark.parametrize("key", ["bouwsteen1-ouders", "armoede-ouders"])
def test_typed_child_age_is_not_read_as_option_number(
    templates: dict[str, Definition], key: str
) -> None:
    """BUG: "Hoe oud is uw kind?" answered with "2" (a two-year-old) is read as option 2 and
    stored as "4-11"; "3" becomes "12-17". Typed ages 5-11 are refused as unknown. A typed
    age must either land in its own band ("0-3") or be asked again, never a wrong band."""
    run = begin(templates[key])
    run.send(Btn(CONSENT_YES))
    s = run.send("2")
    assert s.effects in ((), (StoreAnswer("kind_leeftijd", "0-3"),))
