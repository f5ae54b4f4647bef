from collections.abc import Callable

import pytest

from aggregation.clustering import AnswerText

SCHOOL = [
    "te veel toetsen in een week op school",
    "de toetsweek geeft heel veel stress en druk",
    "huiswerk kost me elke avond uren",
    "de leraar legt de les niet goed uit",
    "ik haal slechte cijfers voor wiskunde",
    "meer hulp bij plannen van huiswerk en toetsen",
    "de mentor heeft geen tijd voor leerlingen",
    "examens en cijfers bepalen alles op school",
    "skool begint te vroeg en de lessen zijn saai",
    "docenten geven te veel huiswerk",
    "veel lesuitval door het lerarentekort op school",
    "de druk om hoge cijfers te halen is groot",
]
MONEY = [
    "mijn ouders hebben geen geld voor sport",
    "alles is te duur en we komen geld tekort",
    "schulden bij de ouders thuis",
    "gratis ontbijt voor kinderen zonder geld",
    "de contributie is te duur voor ons gezin",
    "ik heb geen geld voor nieuwe kleding",
    "we moeten naar de voedselbank want er is geen geld",
    "mijn bijbaan levert te weinig geld op",
    "de huur en boodschappen zijn te duur",
    "geen geld voor een schoolreis",
    "armoede in de wijk wordt groter",
    "regelingen voor gezinnen met weinig geld zijn onbekend",
]
SAFETY = [
    "ik voel me niet veilig op straat in de avond",
    "er wordt gedeald in het park bij ons in de wijk",
    "jongens lopen rond met messen",
    "mijn fiets is gestolen bij het station",
    "meer politie op straat in de buurt",
    "straatverlichting in het park want het is onveilig",
    "hangjongeren zorgen voor overlast in de buurt",
    "er was een overval bij de supermarkt",
    "s avonds niet veilig door criminaliteit in de wijk",
    "inbraken in de straat maken me bang",
    "meisjes worden lastig gevallen op straat",
    "de wijkagent moet vaker langskomen in de buurt",
]
# An off-taxonomy topic, for emergent themes.
PETS = [
    "mijn hond mag nergens loslopen in de stad",
    "een hondenspeelveld voor honden en hun baasjes",
    "katten in het dierenasiel hebben een thuis nodig",
    "meer aandacht voor huisdieren en het dierenasiel",
    "ik wil vrijwilliger worden bij het dierenasiel met honden",
    "honden en katten uit het asiel verdienen een baasje",
    "een hondenschool voor jongeren met een hond",
    "huisdieren helpen jongeren, een hond of kat is fijn",
    "het dierenasiel zoekt jongeren om honden uit te laten",
    "de kat van de buren is weggelopen, het asiel hielp",
    "meer losloopgebieden voor honden in de wijk",
    "dieren verzorgen in het asiel is leuk werk voor jongeren",
]
CANARY = "KWARANTAINE-KANARIE xylofoonzebra"


def make_answers(groups: dict[str, list[str]], *, prefix: str = "a") -> list[AnswerText]:
    answers: list[AnswerText] = []
    roles = ("jongere", "ouder")
    kinds = ("zorg", "kans", "signaal")
    i = 0
    for texts in groups.values():
        for text in texts:
            answers.append(
                AnswerText(
                    id=f"{prefix}{i}",
                    text=text,
                    respondent_id=f"r{i}",
                    role=roles[i % 2],  # type: ignore[arg-type]
                    kind=kinds[i % 3],  # type: ignore[arg-type]
                )
            )
            i += 1
    return answers


@pytest.fixture
def corpus() -> list[AnswerText]:
    return make_answers({"school": SCHOOL, "money": MONEY, "safety": SAFETY})


@pytest.fixture
def corpus_with_pets() -> list[AnswerText]:
    return make_answers({"school": SCHOOL, "money": MONEY, "safety": SAFETY, "pets": PETS})


@pytest.fixture
def answer_factory() -> Callable[..., AnswerText]:
    def build(text: str, idx: int = 0, respondent: str | None = None) -> AnswerText:
        return AnswerText(id=f"x{idx}", text=text, respondent_id=respondent or f"rx{idx}")

    return build
