"""Insert a round with answers and a stored theme run directly (no clustering needed)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from surveys.models import (
    Answer,
    AnswerTheme,
    Conversation,
    Municipality,
    Participant,
    Round,
    ThemeRun,
)
from tests.factories import create_round

WIJKEN = ["centrum", "noord", "oost"]


@dataclass
class Themed:
    round: Round
    run_id: uuid.UUID
    answers: dict[str, list[uuid.UUID]] = field(default_factory=dict)


async def seed_themed_round(
    session,
    municipality: Municipality,
    sizes: dict[str, int],
    *,
    title: str = "Jongeren najaar",
    template: str = "bouwsteen1-jongeren",
    audience: list[str] | None = None,
    texts: dict[str, str] | None = None,
    k_min: int = 5,
) -> Themed:
    round_ = await create_round(
        session,
        municipality=municipality,
        template=template,
        title=title,
        audience=audience or ["jongeren"],
        scope={"wijk": ["Centrum", "Noord", "Oost"]},
    )
    run = ThemeRun(
        round_id=round_.id,
        municipality_id=municipality.id,
        mode="guided",
        model_version="test-1",
        k_min=k_min,
        total_respondents=sum(sizes.values()),
        summary={},
    )
    session.add(run)
    await session.flush()
    themed = Themed(round_, run.id)
    summary = []
    i = 0
    for theme_id, n in sizes.items():
        themed.answers[theme_id] = []
        for j in range(n):
            p = Participant()
            session.add(p)
            await session.flush()
            c = Conversation(
                participant_id=p.id,
                round_id=round_.id,
                definition_id=round_.definition_id,
                state="done",
            )
            session.add(c)
            await session.flush()
            wijk = WIJKEN[i % len(WIJKEN)]
            band = "12-15" if i % 2 else "16-18"
            i += 1
            text = (texts or {}).get(theme_id, f"Antwoord over {theme_id} nummer {j}")
            for key, value, txt, kind in (
                ("wijk", wijk, None, None),
                ("leeftijd", band, None, None),
                ("zorg", "[tekst]", text, "zorg" if j % 3 else "kans"),
            ):
                a = Answer(
                    conversation_id=c.id,
                    participant_id=p.id,
                    round_id=round_.id,
                    question_key=key,
                    value=value,
                    text=txt,
                    kind=kind,
                )
                session.add(a)
                await session.flush()
                if txt is not None:
                    themed.answers[theme_id].append(a.id)
                    session.add(AnswerTheme(run_id=run.id, answer_id=a.id, theme_id=theme_id))
        summary.append(
            {
                "theme_id": theme_id,
                "label": theme_id.replace("_", " ").title(),
                "origin": "seed",
                "size": n if n >= k_min else "suppressed",
                "terms": [theme_id],
                "quote_answer_ids": [str(a) for a in themed.answers[theme_id][:3]],
            }
        )
    run.summary = {"model_version": "test-1", "k_min": k_min, "themes": summary}
    await session.flush()
    return themed
