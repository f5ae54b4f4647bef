"""Encryption of quarantined safeguarding texts (Fernet: AES-128-CBC + HMAC-SHA256)."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken

from surveys.exceptions import PrivacyError


def _fernet(key: str) -> Fernet:
    try:
        return Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise PrivacyError(
            "quarantine key must be a Fernet key (32 url-safe base64 bytes)"
        ) from exc


def encrypt_text(key: str, text: str) -> bytes:
    """Encrypt ``text`` with ``key`` (from settings, never stored in the database)."""
    return _fernet(key).encrypt(text.encode("utf-8"))


def decrypt_text(key: str, token: bytes) -> str:
    """Decrypt a quarantined text; a wrong key raises :class:`PrivacyError`."""
    try:
        return _fernet(key).decrypt(token).decode("utf-8")
    except InvalidToken as exc:
        raise PrivacyError("quarantined text cannot be decrypted with this key") from exc


def generate_key() -> str:
    """Return a new random key (for `.env`)."""
    return Fernet.generate_key().decode("ascii")
