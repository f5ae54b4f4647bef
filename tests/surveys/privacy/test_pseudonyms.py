import re

import pytest

from surveys.exceptions import PrivacyError, SurveysError
from surveys.privacy.pseudonyms import pseudonymise

PEPPER = "s3cret-pepper-for-round-1-xyz"


class TestPseudonymise:
    def test_is_hex_hmac_sha256(self) -> None:
        value = pseudonymise(PEPPER, "telegram", "jeugdstem_bot", "123456")
        assert re.fullmatch(r"[0-9a-f]{64}", value)

    def test_same_user_same_pepper_is_stable(self) -> None:
        a = pseudonymise(PEPPER, "telegram", "bot", "42")
        b = pseudonymise(PEPPER.encode(), "telegram", "bot", "42")
        assert a == b

    def test_rotation_changes_pseudonym(self) -> None:
        a = pseudonymise(PEPPER, "telegram", "bot", "42")
        b = pseudonymise(PEPPER + "-round-2", "telegram", "bot", "42")
        assert a != b

    @pytest.mark.parametrize(
        ("first", "second"),
        [
            (("telegram", "bot", "42"), ("whatsapp", "bot", "42")),
            (("telegram", "bot", "42"), ("telegram", "bot2", "42")),
            (("tele", "grambot", "42"), ("telegram", "bot", "42")),
            (("a:b", "c", "d"), ("a", "b:c", "d")),
            (("a", "b", "c\x00d"), ("a", "b\x00c", "d")),
        ],
    )
    def test_separator_is_unambiguous(
        self, first: tuple[str, str, str], second: tuple[str, str, str]
    ) -> None:
        assert pseudonymise(PEPPER, *first) != pseudonymise(PEPPER, *second)

    def test_does_not_contain_raw_id(self) -> None:
        assert "31612345678" not in pseudonymise(PEPPER, "whatsapp", "bot", "31612345678")

    @pytest.mark.parametrize("pepper", ["", "short", b"", b"0123456789", "a" * 32, b"\x00" * 32])
    def test_rejects_weak_pepper(self, pepper: str | bytes) -> None:
        with pytest.raises(PrivacyError):
            pseudonymise(pepper, "telegram", "bot", "1")

    def test_error_is_in_package_hierarchy(self) -> None:
        with pytest.raises(SurveysError):
            pseudonymise("", "telegram", "bot", "1")
