"""The Typer CLI: demo seeding, rounds list/open/close, db upgrade, terminal chat."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from typer.testing import CliRunner

from bot.channels.terminal import render_text, run_terminal
from bot.engine.engine import EngineConfig
from bot.engine.messages import Choice, Outbound
from jeugdstem.cli import app
from surveys import db
from surveys.models import Answer, Conversation

runner = CliRunner()


class TestDemoAndRounds:
    def test_demo_seeds_once_and_rounds_can_be_closed(self, tmp_path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
        first = runner.invoke(app, ["demo", "--no-serve", "--database-url", url])
        assert first.exit_code == 0, first.output
        assert "/chat/demo-jongeren" in first.output and "demo data loaded" in first.output
        again = runner.invoke(app, ["demo", "--no-serve", "--database-url", url])
        assert "existing demo data" in again.output
        listed = runner.invoke(app, ["rounds", "list", "--database-url", url])
        assert listed.exit_code == 0 and "demo-jongeren" in listed.output
        closed = runner.invoke(app, ["rounds", "close", "demo-ouders", "--database-url", url])
        assert closed.exit_code == 0 and "closed" in closed.output
        reopened = runner.invoke(app, ["rounds", "open", "demo-ouders", "--database-url", url])
        assert reopened.exit_code == 1 and "cannot be opened again" in reopened.output
        missing = runner.invoke(app, ["rounds", "close", "nope-nope", "--database-url", url])
        assert missing.exit_code == 1 and "not" in missing.output.lower()

    def test_retention_command(self, tmp_path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path}/r.db"
        assert runner.invoke(app, ["demo", "--no-serve", "--database-url", url]).exit_code == 0
        result = runner.invoke(app, ["retention", "--database-url", url])
        assert result.exit_code == 0 and "answers 0" in result.output  # demo rounds are fresh

    def test_db_upgrade_and_downgrade(self, tmp_path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path}/x.db"
        assert runner.invoke(app, ["db", "upgrade", "--database-url", url]).exit_code == 0
        assert runner.invoke(app, ["db", "downgrade", "base", "--database-url", url]).exit_code == 0


class TestTerminalChat:
    def test_render_numbers_choices(self) -> None:
        text = render_text(Outbound("Vraag?", (Choice("a", "Appel"), Choice("b", "Peer"))))
        assert text == "Vraag?\n  1. Appel\n  2. Peer"

    def test_complete_exit_ticket_in_terminal(self, tmp_path) -> None:
        url = f"sqlite+aiosqlite:///{tmp_path}/t.db"
        assert runner.invoke(app, ["demo", "--no-serve", "--database-url", url]).exit_code == 0
        lines = iter(["1", "5", "2", "ja", "Meer van dit soort toernooien", "2"])
        out: list[str] = []

        async def run() -> tuple[int, int]:
            engine = db.create_engine(url)
            maker = db.create_sessionmaker(engine)
            await run_terminal(
                maker,
                EngineConfig(pepper="test-pepper-0123456789abcdef"),
                read=lambda: next(lines, None),
                write=out.append,
                code="demo-voetbal",
                address="terminal-test",
            )
            async with maker() as s:
                done = await s.scalar(
                    select(func.count())
                    .select_from(Conversation)
                    .where(
                        Conversation.completed_at.is_not(None),
                        Conversation.activity_id.is_not(None),
                    )
                )
                answers = await s.scalar(select(func.count()).select_from(Answer))
            await engine.dispose()
            return int(done or 0), int(answers or 0)

        done, answers = asyncio.run(run())
        assert "  1. Ja, ik doe mee" in out[0]
        assert done == 31  # 30 demo exit tickets + this one
        assert answers > 0
