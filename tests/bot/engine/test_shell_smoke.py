from bot.engine.engine import EngineConfig, handle
from bot.engine.messages import Inbound
from tests.factories import create_round

CFG = EngineConfig(pepper="test-pepper-0123456789abcdef")


async def test_smoke(session):
    r = await create_round(session)
    res = await handle(session, Inbound("web", "s1", "e1", text=f"/start {r.start_code}"), config=CFG)
    assert "Doe je mee" in res.outbound[0].text
    res = await handle(session, Inbound("web", "s1", "e2", choice="cmd:consent-yes"), config=CFG)
    assert res.outbound[0].question_key == "leeftijd"
    dup = await handle(session, Inbound("web", "s1", "e2", choice="cmd:consent-yes"), config=CFG)
    assert dup.duplicate
