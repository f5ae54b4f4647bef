"""Keyed, one-way pseudonyms for platform user ids (PRIV-02).

The pseudonym is ``HMAC-SHA256(pepper, channel ‖ bot ‖ user_id)``. Each part is length-prefixed,
so no choice of ids can make two different triples collide (``("a:b", "c")`` vs ``("a", "b:c")``).
The pepper lives outside the database; rotating it (e.g. per round) unlinks old pseudonyms.
"""

import hashlib
import hmac

from surveys.exceptions import PrivacyError

MIN_PEPPER_BYTES = 16


def _encode_part(part: str) -> bytes:
    raw = part.encode("utf-8")
    return len(raw).to_bytes(4, "big") + raw


def pseudonymise(pepper: bytes | str, channel: str, bot: str, user_id: str) -> str:
    """Return the hex HMAC-SHA256 pseudonym of a platform user.

    Args:
        pepper: Secret key (at least 16 bytes, not a single repeated byte).
        channel: Platform name, e.g. ``"telegram"``.
        bot: Bot identifier on that platform.
        user_id: The platform's user id, as text.

    Returns:
        A 64-character lowercase hex digest.

    Raises:
        PrivacyError: If the pepper is missing, too short or trivially weak.
    """
    key = pepper.encode("utf-8") if isinstance(pepper, str) else bytes(pepper)
    if len(key) < MIN_PEPPER_BYTES or len(set(key)) < 2:
        raise PrivacyError(
            f"pseudonym pepper must be at least {MIN_PEPPER_BYTES} bytes of secret material"
        )
    message = b"".join(_encode_part(p) for p in (channel, bot, user_id))
    return hmac.new(key, message, hashlib.sha256).hexdigest()
