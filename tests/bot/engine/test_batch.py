"""handle_many and GroupCommit on SQLite and PostgreSQL: a batch means what its messages mean
one by one; leases; shared transactions; a failing message fails alone."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine import batcher as batcher_module
from bot.engine.batcher import GroupCommit
from bot.engine.engine import BatchResult, EngineConfig, HandleResult, handle, handle_many
from bot.engine.flow import CONSENT_YES, ERASE_YES
from bot.engine.messages import Inbound
from surveys import outbox, service
from surveys.models import (
    Answer,
    AuditLog,
    Contact,
    ContactStatus,
    Conversation,
    OutboxMessage,
    Participant,
    ProcessedEvent,
    Round,
    SafeguardingSignal,
    utc_now,
)
from surveys.privacy.pii import scrub
from surveys.privacy.quarantine import generate_key
from tests.factories import WIJKEN, create_municipality, create_round

CFG = EngineConfig(
    pepper="test-pepper-0123456789abcdef",
    quarantine_key=generate_key(),
    scrub=lambda text, schools: scrub(text, schools=schools).text,
)
CODE = "BATCHJONG1"  # fixed start codes: the copy of two runs must be comparable
ANON_CODE = "BATCHANON1"

Maker = async_sessionmaker[AsyncSession]


def web(address: str, event: str, text: str | None = None, choice: str | None = None) -> Inbound:
    return Inbound("web", address, event, text=text, choice=choice)


def conversation(address: str, *steps: str | tuple[str, str]) -> list[Inbound]:
    """One participant's messages; a tuple is ``(event id, text)`` for a chosen event id."""
    out = []
    for n, item in enumerate(steps, start=1):
        event, body = item if isinstance(item, tuple) else (f"{address}-{n}", item)
        if body.startswith("cmd:"):
            out.append(web(address, event, choice=body))
        else:
            out.append(web(address, event, text=body))
    return out


def interleave(*lists: Sequence[Inbound]) -> list[Inbound]:
    """Round robin over the participants, keeping each participant's own order."""
    merged: list[Inbound] = []
    for i in range(max(len(items) for items in lists)):
        merged.extend(items[i] for items in lists if i < len(items))
    return merged


def bouwsteen1_mix() -> list[Inbound]:
    """Five participants through bouwsteen 1, interleaved, with every rare effect in it."""
    anna = conversation(  # the whole round, switching to English halfway
        "anna",
        f"/start {CODE}",
        CONSENT_YES,
        "2",
        "english",
        "Noord",
        "4",
        "Not much to do in the evening",
        "overslaan",
        "3",
        "1,2",
        "nee",
        "Someone who listens, mail me at anna@example.org",
        "hallo",
    )
    bram = conversation(  # stops halfway, comes back, goes on
        "bram", f"/start {CODE}", CONSENT_YES, "1", "Zuid", "stop", "/start", "5", "terug", "4"
    )
    cees = conversation(  # erases everything, then starts again as someone new
        "cees",
        f"/start {CODE}",
        CONSENT_YES,
        "3",
        "Oost",
        "verwijder",
        ERASE_YES,
        "hallo",
        f"/start {CODE}",
        CONSENT_YES,
        "2",
    )
    dirk = conversation(  # the same event delivered again; a crisis text (quarantined)
        "dirk",
        f"/start {CODE}",
        ("dirk-consent", CONSENT_YES),
        ("dirk-consent", CONSENT_YES),
        ("dirk-age", "2"),
        "West",
        "2",
        "ik wil niet meer leven",
        "verder",
        "Te veel toetsen tegelijk",
    )
    eva = conversation(  # under 16 in an anonymous round: the contact is unlinked at the end
        "eva",
        f"/start {ANON_CODE}",
        CONSENT_YES,
        "1",
        "Centrum",
        "3",
        "overslaan",
        "overslaan",
        "2",
        "overslaan",
        "ja",
        "hallo",
    )
    fenna = conversation(  # two rounds, back and forth; /start twice in a row
        "fenna",
        f"/start {CODE}",
        f"/start {CODE}",
        CONSENT_YES,
        "3",
        f"/start {ANON_CODE}",
        CONSENT_YES,
        "2",
        f"/start {CODE}",
        "Zuid",
    )
    gijs = conversation(  # types the code from a poster instead of opening the link
        "gijs", "hulp", CODE, "ja", "4", "privacy", "nederlands", "overslaan"
    )
    mixed = interleave(anna, bram, cees, dirk, eva, fenna, gijs)
    mixed.append(web("dirk", "dirk-consent", choice=CONSENT_YES))  # duplicate across batches
    mixed.append(web("dirk", "dirk-age", text="4"))  # same event id, other content: duplicate
    return mixed


async def open_rounds(maker: Maker) -> None:
    async with maker() as s, s.begin():
        town = await create_municipality(s)
        await create_round(s, municipality=town, start_code=CODE)
        await create_round(
            s,
            municipality=town,
            start_code=ANON_CODE,
            title="Anoniem",
            scope={"wijk": WIJKEN, "under16": "anonymous"},
        )


async def wipe(maker: Maker) -> None:
    """Remove everything the messages wrote (the rounds stay)."""
    async with maker() as s, s.begin():
        for model in (
            ProcessedEvent,
            OutboxMessage,
            SafeguardingSignal,
            Answer,
            Conversation,
            Contact,
            Participant,
        ):
            await s.execute(delete(model))
        await s.execute(delete(AuditLog).where(AuditLog.action == "participant.erased"))


async def snapshot(maker: Maker) -> dict[str, Any]:
    """Everything stored, without generated ids, so two runs can be compared."""
    async with maker() as s:
        contacts = (await s.scalars(select(Contact))).all()
        conversations = (await s.scalars(select(Conversation))).all()
        answers = (await s.scalars(select(Answer))).all()
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        codes = {r.id: r.start_code for r in (await s.scalars(select(Round))).all()}
        events = (await s.execute(select(ProcessedEvent.channel, ProcessedEvent.event_key))).all()
        participants = await s.scalar(select(func.count()).select_from(Participant))
        signals = await s.scalar(select(func.count()).select_from(SafeguardingSignal))
        erased = await s.scalar(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action == "participant.erased")
        )
    reach: dict[Any, list[str]] = {}
    for c in contacts:
        reach.setdefault(c.participant_id, []).append(c.address)

    def who(participant_id: Any) -> str:
        return ",".join(sorted(reach.get(participant_id, []))) or "(unlinked)"

    conversation_code = {c.id: codes[c.round_id] for c in conversations}
    outbox: dict[str, list[tuple[str, str, bool]]] = {}
    for row in rows:
        outbox.setdefault(row.address, []).append(
            (json.dumps(row.payload, sort_keys=True), row.status, row.conversation_id is None)
        )
    return {
        "participants": participants,
        "contacts": sorted(
            (
                c.channel,
                c.address,
                c.address_key,
                c.status,
                c.language,
                conversation_code.get(c.active_conversation_id, str(c.active_conversation_id)),
            )
            for c in contacts
        ),
        "conversations": sorted(
            (
                who(c.participant_id),
                codes[c.round_id],
                c.state,
                str(c.current_question),
                json.dumps(c.progress, sort_keys=True),
                c.completed_at is not None,
            )
            for c in conversations
        ),
        "answers": sorted(
            (who(a.participant_id), codes[a.round_id], a.question_key, json.dumps(a.value))
            + (str(a.text), str(a.kind))
            for a in answers
        ),
        "outbox": outbox,
        "events": sorted((str(c), str(k)) for c, k in events),
        "signals": signals,
        "erased": erased,
    }


def summary(results: Sequence[HandleResult]) -> list[tuple[bool, list[dict[str, Any]]]]:
    return [(r.duplicate, [o.to_payload() for o in r.outbound]) for r in results]


async def one_by_one(maker: Maker, inbounds: Sequence[Inbound]) -> list[HandleResult]:
    results = []
    for inbound in inbounds:
        async with maker() as s, s.begin():
            results.append(await handle(s, inbound, config=CFG))
    return results


async def pending_ids(maker: Maker, ids: Sequence[int]) -> list[int]:
    async with maker() as s:
        found = await s.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.id.in_(list(ids)), OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
        )
        return list(found.all())


async def in_batches(maker: Maker, inbounds: Sequence[Inbound], size: int) -> list[HandleResult]:
    """Run ``size`` messages per transaction; check each batch's ``queued`` after its commit."""
    results: list[HandleResult] = []
    for start in range(0, len(inbounds), size):
        chunk = inbounds[start : start + size]
        async with maker() as s, s.begin():
            batch = await handle_many(s, chunk, config=CFG)
        assert len(batch.results) == len(chunk)
        inserted = [i for r in batch.results for i in r.outbox_ids]
        assert [q.id for q in batch.queued] == await pending_ids(maker, inserted)
        results.extend(batch.results)
    return results


# One-by-one reference per backend, computed once (it is deterministic: fixed codes and pepper).
_REFERENCE: dict[str, tuple[list[tuple[bool, list[dict[str, Any]]]], dict[str, Any]]] = {}


async def reference(maker: Maker, backend: str) -> tuple[list[Any], dict[str, Any]]:
    """The results and stored state of the mix handled one message per transaction."""
    if backend not in _REFERENCE:
        results = summary(await one_by_one(maker, bouwsteen1_mix()))
        _REFERENCE[backend] = (results, await snapshot(maker))
        await wipe(maker)
    return _REFERENCE[backend]


async def count(maker: Maker, model: Any, *where: Any) -> int:
    async with maker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def outbox_rows(maker: Maker, address: str | None = None) -> list[OutboxMessage]:
    async with maker() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if address is not None:
            stmt = stmt.where(OutboxMessage.address == address)
        return list((await s.scalars(stmt)).all())


async def run_batch(maker: Maker, inbounds: Sequence[Inbound], **kw: Any) -> BatchResult:
    async with maker() as s, s.begin():
        return await handle_many(s, inbounds, config=CFG, **kw)


class TestHandleManyMatchesHandle:
    async def test_reference_run_covers_every_rare_effect(self, sessionmaker, backend) -> None:
        await open_rounds(sessionmaker)
        results, stored = await reference(sessionmaker, backend)
        mix = bouwsteen1_mix()
        assert len(results) == len(mix) == 70
        assert [i.event_id for i, (dup, _) in zip(mix, results, strict=True) if dup] == [
            "dirk-consent",
            "dirk-consent",
            "dirk-age",
        ]
        assert stored["participants"] == 8  # cees and eva came back as someone new
        assert stored["erased"] == 1 and stored["signals"] == 1
        statuses = {a: [status for _, status, _ in rows] for a, rows in stored["outbox"].items()}
        assert statuses["bram"] == ["cancelled"] * 4 + ["pending"] * 5  # stop
        assert statuses["cees"] == ["cancelled"] * 5 + ["pending"] * 5  # erase
        assert {a: len(rows) for a, rows in stored["outbox"].items()} == {
            "anna": 14,
            "bram": 9,
            "cees": 10,
            "dirk": 9,
            "eva": 12,
            "fenna": 9,
            "gijs": 8,
        }
        assert [(c[1], c[3], c[4], c[5]) for c in stored["contacts"]] == [
            ("anna", "active", "en", CODE),
            ("bram", "active", "nl", CODE),
            ("cees", "active", "nl", CODE),
            ("dirk", "active", "nl", CODE),
            ("eva", "active", "nl", "None"),  # unlinked, then a new contact without a round
            ("fenna", "active", "nl", CODE),
            ("gijs", "active", "nl", CODE),
        ]
        by_who: dict[str, list[str]] = {}
        for who_, code, key, *_ in stored["answers"]:
            by_who.setdefault(f"{who_}@{code}", []).append(key)
        assert sorted(by_who["(unlinked)@" + ANON_CODE]) == [
            "leeftijd",
            "veilig",
            "vertrouwen",
            "welbevinden",
            "wijk",
        ]
        assert sorted(by_who["anna@" + CODE]) == [
            "leeftijd",
            "signaal",
            "veilig",
            "vertrouwen",
            "vrije_tijd",
            "welbevinden",
            "wijk",
            "zorg",
        ]
        assert sorted(by_who["bram@" + CODE]) == ["leeftijd", "welbevinden", "wijk"]
        assert by_who["cees@" + CODE] == ["leeftijd"]  # only the second life's answer
        assert sorted(by_who["fenna@" + CODE]) == ["leeftijd", "wijk"]
        assert by_who["fenna@" + ANON_CODE] == ["leeftijd"]
        answers = {(a[0], a[2]): a for a in stored["answers"]}
        assert answers[("anna", "signaal")][4] == "Someone who listens, mail me at [email]"
        assert answers[("bram", "welbevinden")][3] == '"4"'  # 5, back, 4: the last one wins

    @pytest.mark.parametrize("size", [1, 3, 1000], ids=lambda n: f"batch{n}")
    async def test_interleaved_round_stores_and_queues_the_same(
        self, sessionmaker, backend, size: int
    ) -> None:
        await open_rounds(sessionmaker)
        expected_results, expected = await reference(sessionmaker, backend)

        results = summary(await in_batches(sessionmaker, bouwsteen1_mix(), size))
        actual = await snapshot(sessionmaker)

        assert results == expected_results
        for part in expected:
            assert actual[part] == expected[part], part


class TestHandleMany:
    async def test_empty_batch(self, session) -> None:
        done = await handle_many(session, [], config=CFG)
        assert done.results == [] and done.queued == []

    async def test_two_starts_and_a_duplicate_in_one_batch(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        done = await run_batch(
            sessionmaker,
            [
                web("anna", "a1", f"/start {CODE}"),
                web("bram", "b1", f"/start {CODE}"),
                web("anna", "a1", f"/start {CODE}"),
                web("anna", "a2", choice=CONSENT_YES),
            ],
        )
        assert [r.duplicate for r in done.results] == [False, False, True, False]
        assert done.results[2].outbound == () and done.results[2].outbox_ids == ()
        assert done.results[0].outbound[0].choices[0].value == CONSENT_YES
        assert done.results[1].outbound[0].choices[0].value == CONSENT_YES
        assert done.results[3].outbound[0].question_key == "leeftijd"
        rows = await outbox_rows(sessionmaker)
        assert [(q.id, q.address, q.payload) for q in done.queued] == [
            (r.id, r.address, r.payload) for r in rows
        ]
        assert [r.address for r in rows] == ["anna", "bram", "anna"]
        assert [i for r in done.results for i in r.outbox_ids] == [r.id for r in rows]
        assert await count(sessionmaker, Conversation) == 2
        assert await count(sessionmaker, ProcessedEvent) == 3
        again = await run_batch(sessionmaker, [web("anna", "a2", choice=CONSENT_YES)])
        assert again.results[0].duplicate and again.queued == []
        assert await count(sessionmaker, OutboxMessage) == 3

    async def test_stop_later_in_the_batch_cancels_earlier_rows(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        done = await run_batch(
            sessionmaker,
            [
                web("bram", "b1", f"/start {CODE}"),
                web("bram", "b2", choice=CONSENT_YES),
                web("anna", "a1", f"/start {CODE}"),
                web("bram", "b3", "1"),
                web("bram", "b4", "stop"),
                web("bram", "b5", "hallo"),
            ],
        )
        bram = await outbox_rows(sessionmaker, "bram")
        assert [r.status for r in bram] == ["cancelled"] * 3 + ["pending"] * 2
        assert [r.id for r in bram[:3]] == [
            i for r in (done.results[0], done.results[1], done.results[3]) for i in r.outbox_ids
        ]
        (anna,) = await outbox_rows(sessionmaker, "anna")
        assert [q.id for q in done.queued] == [anna.id, bram[3].id, bram[4].id]
        assert "gestopt" in done.queued[1].payload["text"]
        async with sessionmaker() as s:
            statuses = dict((await s.execute(select(Contact.address, Contact.status))).all())
        assert statuses == {"bram": ContactStatus.stopped.value, "anna": "active"}
        assert await count(sessionmaker, Answer) == 1  # the age answer before the stop is kept

    async def test_erase_in_the_batch_removes_the_earlier_answers(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        first = await run_batch(
            sessionmaker,
            [
                web("cees", "c1", f"/start {CODE}"),
                web("dirk", "d1", f"/start {CODE}"),
                web("cees", "c2", choice=CONSENT_YES),
                web("dirk", "d2", choice=CONSENT_YES),
            ],
        )
        async with sessionmaker() as s:
            old = (await s.scalars(select(Contact).where(Contact.address == "cees"))).one()
        done = await run_batch(
            sessionmaker,
            [
                web("cees", "c3", "3"),
                web("dirk", "d3", "2"),
                web("cees", "c4", "Oost"),
                web("cees", "c5", "verwijder"),
                web("cees", "c6", choice=ERASE_YES),
                web("cees", "c7", "hallo"),
            ],
        )
        assert "gewist" in done.results[4].outbound[0].text
        async with sessionmaker() as s:
            answers = (await s.execute(select(Answer.question_key, Answer.value))).all()
            contacts = (await s.scalars(select(Contact).order_by(Contact.address))).all()
            participant_ids = set((await s.scalars(select(Participant.id))).all())
        assert [tuple(a) for a in answers] == [("leeftijd", "16-17")]  # dirk's only
        assert [c.address for c in contacts] == ["cees", "dirk"]
        new = contacts[0]
        assert new.participant_id != old.participant_id and new.active_conversation_id is None
        assert old.participant_id not in participant_ids and len(participant_ids) == 2
        assert await count(sessionmaker, Conversation) == 1
        assert await count(sessionmaker, AuditLog, AuditLog.action == "participant.erased") == 1
        cees = await outbox_rows(sessionmaker, "cees")
        assert [r.status for r in cees] == ["cancelled"] * 5 + ["pending"] * 2
        assert [r.conversation_id for r in cees[-2:]] == [None, None]
        queued_cees = [q for q in done.queued if q.address == "cees"]
        assert [q.id for q in queued_cees] == [r.id for r in cees[-2:]]
        assert "gewist" in queued_cees[0].payload["text"]
        assert "Jeugdstem-bot" in queued_cees[1].payload["text"]  # the welcome, to a stranger
        assert [q.address for q in done.queued] == ["dirk", "cees", "cees"]
        assert first.results[0].outbox_ids[0] == cees[0].id

    async def test_english_in_the_batch(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        done = await run_batch(
            sessionmaker,
            [
                web("anna", "a1", f"/start {CODE}"),
                web("anna", "a2", choice=CONSENT_YES),
                web("anna", "a3", "english"),
                web("anna", "a4", "2"),
            ],
        )
        assert done.results[2].outbound[1].text == "How old are you?"
        assert done.results[3].outbound[0].text.startswith("Which neighbourhood")
        async with sessionmaker() as s:
            contact = (await s.scalars(select(Contact))).one()
            conv = (await s.scalars(select(Conversation))).one()
        assert contact.language == "en" and conv.progress["lang"] == "en"
        assert conv.current_question == "wijk"

    async def test_anonymous_under16_unlinked_in_the_batch(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        steps = [f"/start {ANON_CODE}", CONSENT_YES, "1", "overslaan", "3", "overslaan"]
        steps += ["overslaan", "2", "overslaan", "ja", "hallo"]
        done = await run_batch(sessionmaker, conversation("eva", *steps))
        assert done.results[-2].outbound[-1].text.startswith("Bedankt")
        async with sessionmaker() as s:
            contact = (await s.scalars(select(Contact))).one()
            conv = (await s.scalars(select(Conversation))).one()
            answer_owners = set((await s.scalars(select(Answer.participant_id))).all())
        assert conv.state == "done" and conv.completed_at is not None
        assert answer_owners == {conv.participant_id} != {contact.participant_id}
        assert contact.active_conversation_id is None
        assert await count(sessionmaker, Answer) == 4  # leeftijd, welbevinden, veilig, vertrouwen
        assert len(done.queued) == len(steps) + 1  # nothing cancelled; the warning is extra


class TestLease:
    async def test_lease_until_queues_rows_already_claimed(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        until = utc_now() + timedelta(seconds=300)
        done = await run_batch(
            sessionmaker,
            [web("anna", "a1", f"/start {CODE}"), web("anna", "a2", choice=CONSENT_YES)],
            lease_until=until,
        )
        rows = await outbox_rows(sessionmaker)
        assert len(rows) == 2 and [q.id for q in done.queued] == [r.id for r in rows]
        assert [r.attempts for r in rows] == [1, 1]
        assert all(abs(r.next_attempt_at - until) < timedelta(milliseconds=1) for r in rows)
        async with sessionmaker() as s, s.begin():
            assert await outbox.claim_due(s, channel="web", limit=10, lease_seconds=60) == []
            later = await outbox.claim_due(
                s,
                channel="web",
                limit=10,
                lease_seconds=60,
                now=until + timedelta(seconds=1),
            )
        assert [(c.id, c.attempts) for c in later] == [(r.id, 2) for r in rows]

    async def test_without_lease_rows_wait_for_a_claim(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        done = await run_batch(sessionmaker, [web("anna", "a1", f"/start {CODE}")])
        (row,) = await outbox_rows(sessionmaker)
        assert (row.attempts, row.next_attempt_at, row.status) == (0, None, "pending")
        assert [q.id for q in done.queued] == [row.id]
        async with sessionmaker() as s, s.begin():
            claimed = await outbox.claim_due(s, channel="web", limit=10, lease_seconds=60)
        assert [(c.id, c.attempts) for c in claimed] == [(row.id, 1)]


async def one_conversation(session: Any) -> Conversation:
    """A new round with one web contact and its conversation."""
    round_ = await create_round(session)
    (contact,) = (await service.get_or_create_contacts(session, [("web", "k", "a")])).values()
    (conv,) = (
        await service.get_or_create_conversations(session, [(contact.participant_id, round_, None)])
    ).values()
    return conv


class TestServiceBulk:
    async def test_claim_events(self, session) -> None:
        c = "web:default"
        long = "x" * 200
        first = await service.claim_events(session, [(c, "e1"), (c, "e1"), (c, "e2"), (c, long)])
        assert first == {(c, "e1"), (c, "e2"), (c, "x" * 128)}
        second = await service.claim_events(
            session, [(c, "e2"), (c, "e3"), ("other", "e1"), (c, "x" * 130)]
        )
        assert second == {(c, "e3"), ("other", "e1")}
        assert await service.claim_events(session, []) == set()

    async def test_get_or_create_contacts(self, session) -> None:
        made = await service.get_or_create_contacts(
            session, [("web", "k1", "a1"), ("web", "k2", "a2"), ("telegram", "k1", "a3")]
        )
        assert set(made) == {("web", "k1"), ("web", "k2"), ("telegram", "k1")}
        assert len({c.participant_id for c in made.values()}) == 3
        assert made[("telegram", "k1")].address == "a3"
        again = await service.get_or_create_contacts(
            session, [("web", "k1", "changed"), ("web", "k3", "a4"), ("web", "k3", "a4")]
        )
        assert again[("web", "k1")].id == made[("web", "k1")].id
        assert again[("web", "k1")].address == "a1"  # a known contact is not rewritten
        assert again[("web", "k3")].status == ContactStatus.active.value
        assert await session.scalar(select(func.count()).select_from(Participant)) == 4
        assert await session.scalar(select(func.count()).select_from(Contact)) == 4
        assert await service.get_or_create_contacts(session, []) == {}

    async def test_get_or_create_and_lock_conversations(self, session) -> None:
        round_ = await create_round(session)
        contacts = await service.get_or_create_contacts(
            session, [("web", "k1", "a1"), ("web", "k2", "a2")]
        )
        p1, p2 = (contacts[("web", k)].participant_id for k in ("k1", "k2"))
        made = await service.get_or_create_conversations(
            session, [(p1, round_, None), (p2, round_, None), (p1, round_, None)]
        )
        assert set(made) == {(p1, round_.id, ""), (p2, round_.id, "")}
        assert {(c.state, c.definition_id) for c in made.values()} == {
            ("new", round_.definition_id)
        }
        again = await service.get_or_create_conversations(session, [(p1, round_, None)])
        assert again[(p1, round_.id, "")].id == made[(p1, round_.id, "")].id
        assert await session.scalar(select(func.count()).select_from(Conversation)) == 2
        ids = [c.id for c in made.values()]
        locked = await service.lock_conversations(session, [ids[1], uuid.uuid4(), ids[0], ids[1]])
        assert set(locked) == set(ids)
        assert all(r.id == round_.id and c.id == cid for cid, (c, r) in locked.items())
        assert await service.lock_conversations(session, []) == {}

    async def test_save_answers_upserts(self, session) -> None:
        conv = await one_conversation(session)
        round_id = conv.round_id

        def answer(key: str, value: str, text: str | None = None) -> dict[str, Any]:
            item = {"conversation": conv, "question_key": key, "value": value}
            return item | {"text": text, "kind": "zorg" if text else None}

        await service.save_answers(
            session, [answer("wijk", "noord"), answer("zorg", "[tekst]", "te druk")]
        )
        await service.save_answers(session, [answer("wijk", "zuid")])  # replaces, one row
        await service.save_answers(session, [])
        rows = (await session.execute(select(Answer).order_by(Answer.question_key))).scalars()
        stored = [(a.question_key, a.value, a.text, a.kind, a.round_id) for a in rows]
        assert stored == [
            ("wijk", "zuid", None, None, round_id),
            ("zorg", "[tekst]", "te druk", "zorg", round_id),
        ]

    async def test_save_answers_replaces_value_and_time_but_keeps_identity(self, session) -> None:
        conv = await one_conversation(session)
        item = {"conversation": conv, "question_key": "thema", "text": None, "kind": None}
        await service.save_answers(session, [item | {"value": ["1", "4"]}])
        first = (await session.execute(select(Answer))).scalars().one()
        before = (first.id, first.created_at, first.updated_at)
        await service.save_answers(session, [item | {"value": {"n": 2}}])
        session.expunge_all()
        again = (await session.execute(select(Answer))).scalars().one()
        assert (again.id, again.created_at) == before[:2]  # the same row, created once
        assert again.updated_at > before[2]
        assert again.value == {"n": 2}  # JSON values round-trip (a list before, a dict now)
        assert first.value == ["1", "4"]

    async def test_enqueue_many_keeps_order_and_lease(self, session) -> None:
        until = utc_now() + timedelta(minutes=5)
        rows = [
            {"channel": "web", "address": a, "payload": {"text": t}}
            for a, t in [("x", "1"), ("y", "2"), ("x", "3")]
        ]
        ids = await service.enqueue_many(session, rows)
        leased = await service.enqueue_many(session, rows[:1], lease_until=until)
        assert ids == sorted(ids) and leased[0] > ids[-1]
        stored = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert [(r.address, r.payload["text"], r.attempts) for r in stored] == [
            ("x", "1", 0),
            ("y", "2", 0),
            ("x", "3", 0),
            ("x", "1", 1),
        ]
        assert [r.next_attempt_at is None for r in stored] == [True, True, True, False]
        assert await service.enqueue_many(session, []) == []


def starts(n: int, prefix: str = "p") -> list[Inbound]:
    return [web(f"{prefix}{i:02d}", f"{prefix}{i:02d}-start", f"/start {CODE}") for i in range(n)]


def consents(n: int, prefix: str = "p") -> list[Inbound]:
    return [web(f"{prefix}{i:02d}", f"{prefix}{i:02d}-yes", choice=CONSENT_YES) for i in range(n)]


class TestGroupCommit:
    async def test_concurrent_submits_share_transactions(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        commits: list[tuple[list[int], bool]] = []
        group = GroupCommit(
            sessionmaker,
            CFG,
            max_batch=7,
            on_commit=lambda rows, leased: commits.append(([r.id for r in rows], leased)),
        )
        first = await asyncio.gather(*(group.submit(i) for i in starts(30)))
        assert group.messages == 30 and group.batches == 5  # 7 + 7 + 7 + 7 + 2, not 30
        assert [len(ids) for ids, _ in commits] == [7, 7, 7, 7, 2]
        assert {leased for _, leased in commits} == {False}
        assert all(not r.duplicate for r in first)
        assert [r.outbound[0].choices[0].value for r in first] == [CONSENT_YES] * 30

        second = await asyncio.gather(*(group.submit(i) for i in consents(30)))
        assert group.batches == 10 and group.messages == 60
        assert [r.outbound[0].question_key for r in second] == ["leeftijd"] * 30
        rows = await outbox_rows(sessionmaker)
        assert len(rows) == 60 and {r.status for r in rows} == {"pending"}
        by_address: dict[str, list[str]] = {}
        for row in rows:
            by_address.setdefault(row.address, []).append(row.payload["question_key"] or "")
        assert by_address == {f"p{i:02d}": ["", "leeftijd"] for i in range(30)}
        assert sorted(i for ids, _ in commits for i in ids) == [r.id for r in rows]
        async with sessionmaker() as s:
            states = (await s.scalars(select(Conversation.current_question))).all()
        assert states == ["leeftijd"] * 30
        assert await count(sessionmaker, Contact) == 30
        assert await count(sessionmaker, ProcessedEvent) == 60

    async def test_failing_hand_off_after_commit_does_not_rerun_the_batch(
        self, sessionmaker
    ) -> None:
        await open_rounds(sessionmaker)

        def broken(rows: object, leased: bool) -> None:
            raise RuntimeError("hand-off failed")

        group = GroupCommit(sessionmaker, CFG, on_commit=broken)
        results = await asyncio.gather(*(group.submit(i) for i in starts(3)))
        assert [r.duplicate for r in results] == [False, False, False]
        assert group.batches == 1
        assert await count(sessionmaker, OutboxMessage) == 3

    async def test_duplicates_submitted_together_are_handled_once(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        group = GroupCommit(sessionmaker, CFG)
        same = web("anna", "a1", f"/start {CODE}")
        results = await asyncio.gather(*(group.submit(same) for _ in range(5)))
        assert [r.duplicate for r in results] == [False, True, True, True, True]
        assert group.batches == 1
        assert await count(sessionmaker, OutboxMessage) == 1

    async def test_leased_batches_report_leased_rows(self, sessionmaker) -> None:
        await open_rounds(sessionmaker)
        until = utc_now() + timedelta(seconds=60)
        commits: list[tuple[list[int], bool]] = []
        group = GroupCommit(
            sessionmaker,
            CFG,
            lease_until=lambda: until,
            on_commit=lambda rows, leased: commits.append(([r.id for r in rows], leased)),
        )
        await asyncio.gather(*(group.submit(i) for i in starts(3)))
        rows = await outbox_rows(sessionmaker)
        assert commits == [([r.id for r in rows], True)]
        assert [r.attempts for r in rows] == [1, 1, 1]
        assert all(abs(r.next_attempt_at - until) < timedelta(milliseconds=1) for r in rows)

    async def test_a_failing_message_fails_alone(self, sessionmaker, monkeypatch) -> None:
        await open_rounds(sessionmaker)
        real = batcher_module.handle_many

        async def fails_on_bad(
            session: AsyncSession, inbounds: Sequence[Inbound], **kw: Any
        ) -> BatchResult:
            done = await real(session, inbounds, **kw)  # everything written, then the failure
            if any(i.event_id == "bad" for i in inbounds):
                raise RuntimeError("boom")
            return done

        monkeypatch.setattr(batcher_module, "handle_many", fails_on_bad)
        commits: list[list[str]] = []
        group = GroupCommit(
            sessionmaker,
            CFG,
            on_commit=lambda rows, leased: commits.append([r.address for r in rows]),
        )
        inbounds = starts(8)
        bad = web("zoe", "bad", f"/start {CODE}")
        inbounds[4:4] = [bad]
        inbounds.append(inbounds[0])  # a duplicate in the failed batch stays a duplicate
        outcomes = await asyncio.gather(
            *(group.submit(i) for i in inbounds), return_exceptions=True
        )

        failed = outcomes.pop(4)
        assert isinstance(failed, RuntimeError) and str(failed) == "boom"
        assert all(isinstance(o, HandleResult) for o in outcomes)
        assert [o.duplicate for o in outcomes] == [False] * 8 + [True]  # type: ignore[union-attr]
        assert group.batches == 9 and group.messages == 9  # one by one after the failure
        assert commits == [[f"p{i:02d}"] for i in range(8)] + [[]]
        rows = await outbox_rows(sessionmaker)
        assert [r.address for r in rows] == [f"p{i:02d}" for i in range(8)]  # exactly once
        assert await count(sessionmaker, ProcessedEvent) == 8
        assert await count(sessionmaker, Contact) == 8
        assert await count(sessionmaker, Participant) == 8
        assert await count(sessionmaker, Conversation) == 8

        monkeypatch.setattr(batcher_module, "handle_many", real)
        retried = await group.submit(bad)  # it was rolled back, so it is not a duplicate
        assert not retried.duplicate and retried.outbound[0].choices[0].value == CONSENT_YES
        assert await count(sessionmaker, OutboxMessage) == 9
