import socket
import sys

import pytest

from surveys.privacy import disclosure, pii, pseudonyms, safeguarding


class _NoNetwork(socket.socket):
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("network access attempted")


def test_anon_08_pipeline_runs_with_sockets_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "socket", _NoNetwork)
    monkeypatch.setattr(socket, "create_connection", _NoNetwork)
    # Force every data file to be (re)loaded while the network is blocked.
    for cached in (pii._lexicon, pii._compiled, safeguarding._rules, safeguarding._helpline_config):
        cached.cache_clear()
    text = "Ik ben Sanne, 06-12345678, en ik wil niet meer leven"
    assert pii.scrub(text).text == "Ik ben [naam], [telefoon], en ik wil niet meer leven"
    signal = safeguarding.classify(text)
    assert signal.category == "crisis"
    assert "113" in safeguarding.help_card(signal)
    assert disclosure.suppress_counts({"a": 12})["a"].count == 10
    assert len(pseudonyms.pseudonymise("x" * 16 + "y", "telegram", "bot", "1")) == 64


def test_no_heavy_nlp_dependencies_loaded() -> None:
    assert "spacy" not in sys.modules
    assert "deduce" not in sys.modules
    assert "sqlalchemy" not in {m.split(".")[0] for m in vars(pii).values() if isinstance(m, str)}
