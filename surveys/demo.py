"""Demo municipality with open rounds and fictional synthetic answers (for `jeugdstem demo`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys import service
from surveys.definitions import load_templates
from surveys.demo_data import demo_answers
from surveys.models import (
    Answer,
    Conversation,
    Municipality,
    Participant,
    Round,
    RoundStatus,
    utc_now,
)

DEMO_SLUG = "demostad"
WIJKEN = ["Centrum", "Noord", "Oost", "Zuid", "West"]


@dataclass(frozen=True)
class DemoLinks:
    """Start codes of the demo rounds and activity."""

    jongeren: str = "demo-jongeren"
    ouders: str = "demo-ouders"
    exit_ticket: str = "demo-voetbal"


async def seed_demo(session: AsyncSession, *, seed: int = 7) -> tuple[DemoLinks, bool]:
    """Create the demo municipality, rounds and synthetic answers once.

    Returns:
        The demo start codes, and whether anything was created (False if it existed).
    """
    links = DemoLinks()
    existing = await session.scalar(select(Municipality).where(Municipality.slug == DEMO_SLUG))
    if existing is not None:
        return links, False
    town = await service.create_municipality(
        session, slug=DEMO_SLUG, name="Gemeente Demostad (fictief)", settings={"k_min": 10}
    )
    templates = load_templates()

    async def open_round(key: str, title: str, audience: list[str], code: str) -> Round:
        definition = await service.register_definition(session, templates[key])
        round_ = await service.create_round(
            session,
            municipality_id=town.id,
            definition=definition,
            title=title,
            audience=audience,
            scope={"wijk": WIJKEN},
            start_code=code,
        )
        return await service.set_round_status(session, round_, RoundStatus.open, actor="demo")

    rounds = {
        "bouwsteen1-jongeren": await open_round(
            "bouwsteen1-jongeren",
            "Hoe gaat het met jongeren? (najaar)",
            ["jongeren"],
            links.jongeren,
        ),
        "bouwsteen1-ouders": await open_round(
            "bouwsteen1-ouders", "Ouders over hun kinderen (najaar)", ["ouders"], links.ouders
        ),
        "bouwsteen5-exit-ticket": await open_round(
            "bouwsteen5-exit-ticket", "Exit tickets activiteiten", ["jongeren"], "demo-exit"
        ),
    }
    activity = await service.create_activity(
        session,
        round_=rounds["bouwsteen5-exit-ticket"],
        name="Voetbaltoernooi Zuid",
        start_code=links.exit_ticket,
    )
    now = utc_now()
    for response in demo_answers(seed):
        round_ = rounds[response.definition_key]
        definition = templates[response.definition_key]
        participant = Participant()
        session.add(participant)
        await session.flush()
        is_exit = response.definition_key == "bouwsteen5-exit-ticket"
        conversation = Conversation(
            participant_id=participant.id,
            round_id=round_.id,
            activity_id=activity.id if is_exit else None,
            subject=str(activity.id) if is_exit else "",
            definition_id=round_.definition_id,
            state="done",
            progress={"state": "done"},
            completed_at=now,
        )
        session.add(conversation)
        await session.flush()
        for key, value in response.answers.items():
            question = definition.question(key)
            is_text = question.kind is not None
            session.add(
                Answer(
                    conversation_id=conversation.id,
                    participant_id=participant.id,
                    round_id=round_.id,
                    activity_id=conversation.activity_id,
                    question_key=key,
                    value="[tekst]" if is_text else value,
                    text=str(value) if is_text else None,
                    kind=question.kind.value if question.kind else None,
                )
            )
    await service.record_audit(session, actor="demo", action="demo.seeded", municipality_id=town.id)
    await session.flush()
    return links, True
