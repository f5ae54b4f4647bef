"""Staff accounts: users, password login with back-off, sessions and API tokens.

Secrets are never stored: passwords as argon2 hashes, session cookies and API tokens as their
SHA-256. Deactivating a user or changing the role deletes every session and token at once.
Services flush but never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from surveys.exceptions import Conflict, NotFound, SurveysError
from surveys.models import (
    ApiToken,
    LoginFailure,
    RoundOwner,
    StaffRole,
    User,
    UserSession,
    utc_now,
)
from surveys.service import record_audit, scoped

TOKEN_PREFIX = "jst_"
MIN_PASSWORD_LENGTH = 12
FAILURE_WINDOW = timedelta(minutes=15)
ACCOUNT_THRESHOLD = 5
ADDRESS_THRESHOLD = 20
MAX_DELAY_SECONDS = 900

_HASHER = PasswordHasher()
# Verified against when the e-mail is unknown, so both paths cost one argon2 verification.
_DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))


class AuthError(SurveysError):
    """Raised when credentials, a session or a token are not valid (deliberately vague)."""


class LoginThrottled(SurveysError):
    """Raised when too many logins failed recently for the account or the client address.

    Attributes:
        retry_after: Seconds to wait before the next attempt.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """Lower-case and strip an e-mail address."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    """Return the argon2 hash of ``password``.

    Raises:
        Conflict: The password is shorter than :data:`MIN_PASSWORD_LENGTH`.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Conflict(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Principal:
    """Who is acting: resolved from a session cookie or an API token on every request.

    Attributes:
        user_id: The user's id.
        municipality_id: The user's municipality (the tenant every query is scoped to).
        role: The user's role.
        email: The user's e-mail (used as the audit actor).
        csrf_token: The session's CSRF token; ``None`` for API tokens (no cookies involved).
        session_id: The session row id, if authenticated by cookie.
    """

    user_id: uuid.UUID
    municipality_id: uuid.UUID
    role: StaffRole
    email: str
    csrf_token: str | None = None
    session_id: uuid.UUID | None = None

    @property
    def actor(self) -> str:
        """The audit actor string."""
        return f"user:{self.user_id}"


async def create_user(
    session: AsyncSession,
    *,
    municipality_id: uuid.UUID,
    email: str,
    password: str,
    role: StaffRole,
    name: str = "",
    actor: str = "system",
) -> User:
    """Create a staff account.

    Raises:
        Conflict: The e-mail is taken or the password is too short.
    """
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise Conflict("a valid e-mail address is required")
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("a user with this e-mail address exists")
    user = User(
        municipality_id=municipality_id,
        email=email,
        name=name.strip()[:200],
        role=StaffRole(role).value,
        password_hash=hash_password(password),
    )
    session.add(user)
    await session.flush()
    await record_audit(
        session,
        actor=actor,
        action="user.created",
        municipality_id=municipality_id,
        object_type="user",
        object_id=str(user.id),
        detail={"role": user.role},
    )
    return user


async def list_users(session: AsyncSession, municipality_id: uuid.UUID) -> list[User]:
    """List the users of one municipality."""
    stmt = scoped(select(User), municipality_id, User).order_by(User.email)
    return list((await session.scalars(stmt)).all())


async def get_user(session: AsyncSession, user_id: uuid.UUID, municipality_id: uuid.UUID) -> User:
    """Return a user of the municipality.

    Raises:
        NotFound: No such user in this municipality.
    """
    user = await session.scalar(
        scoped(select(User), municipality_id, User).where(User.id == user_id)
    )
    if user is None:
        raise NotFound("user not found")
    return user


async def revoke_credentials(session: AsyncSession, user_id: uuid.UUID) -> None:
    """Delete every session and API token of a user."""
    await session.execute(delete(UserSession).where(UserSession.user_id == user_id))
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


async def update_user(
    session: AsyncSession,
    user: User,
    *,
    actor: str,
    role: StaffRole | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> User:
    """Change role, active flag or password; any change ends the user's sessions and tokens."""
    changes: dict[str, str | bool] = {}
    if role is not None and role.value != user.role:
        changes["role"] = role.value
        user.role = role.value
    if active is not None and active != user.active:
        changes["active"] = active
        user.active = active
    if password is not None:
        user.password_hash = hash_password(password)
        changes["password"] = True
    if changes:
        await revoke_credentials(session, user.id)
        await record_audit(
            session,
            actor=actor,
            action="user.updated",
            municipality_id=user.municipality_id,
            object_type="user",
            object_id=str(user.id),
            detail=changes,
        )
    await session.flush()
    return user


def account_key(email: str) -> str:
    """The back-off key of an account (a hash, so no address is stored)."""
    return "a:" + _digest(normalise_email(email))[:40]


def address_key(address: str) -> str:
    """The back-off key of a client address."""
    return "i:" + _digest(address)[:40]


async def _delay_for(session: AsyncSession, key: str, threshold: int, now: datetime) -> int:
    count, last = (
        (
            await session.execute(
                select(func.count(), func.max(LoginFailure.created_at)).where(
                    LoginFailure.key == key, LoginFailure.created_at > now - FAILURE_WINDOW
                )
            )
        )
        .tuples()
        .one()
    )
    if count < threshold or last is None:
        return 0
    if last.tzinfo is None:  # SQLite aggregates bypass the column type
        last = last.replace(tzinfo=now.tzinfo)
    wait = min(2 ** (count - threshold), MAX_DELAY_SECONDS)
    remaining = (last + timedelta(seconds=wait) - now).total_seconds()
    return max(0, int(remaining + 0.999))


async def authenticate(
    session: AsyncSession, *, email: str, password: str, address: str, now: datetime | None = None
) -> User:
    """Check a password login, with exponential back-off per account and per client address.

    Failures are recorded in the caller's transaction, so the caller must commit even when
    this raises.

    Raises:
        LoginThrottled: Too many recent failures; nothing was checked.
        AuthError: Wrong e-mail or password, or the account is inactive.
    """
    now = now or utc_now()
    keys = [(account_key(email), ACCOUNT_THRESHOLD), (address_key(address), ADDRESS_THRESHOLD)]
    wait = max([await _delay_for(session, key, limit, now) for key, limit in keys])
    if wait > 0:
        raise LoginThrottled(wait)
    user = await session.scalar(select(User).where(User.email == normalise_email(email)))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        for key, _limit in keys:
            session.add(LoginFailure(key=key, created_at=now))
        await session.flush()
        raise AuthError("invalid e-mail or password")
    await session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0][0]))
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    user.last_login_at = now
    await record_audit(
        session,
        actor=f"user:{user.id}",
        action="user.login",
        municipality_id=user.municipality_id,
        object_type="user",
        object_id=str(user.id),
    )
    await session.flush()
    return user


async def create_session(
    session: AsyncSession, user: User, *, lifetime: timedelta = timedelta(hours=8)
) -> tuple[str, UserSession]:
    """Start a login session; return the raw cookie value (shown once) and the row."""
    raw = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        municipality_id=user.municipality_id,
        token_hash=_digest(raw),
        csrf_token=secrets.token_urlsafe(32),
        role=user.role,
        expires_at=utc_now() + lifetime,
    )
    session.add(row)
    await session.flush()
    return raw, row


async def end_session(session: AsyncSession, raw: str) -> None:
    """Delete the session with cookie value ``raw`` (logout)."""
    await session.execute(delete(UserSession).where(UserSession.token_hash == _digest(raw)))


async def resolve_session(session: AsyncSession, raw: str) -> Principal:
    """Return who a session cookie belongs to.

    The user row is read on every request, so deactivation and role changes apply at once.

    Raises:
        AuthError: Unknown or expired session, inactive user, or changed role.
    """
    row = (
        (
            await session.execute(
                select(UserSession, User)
                .join(User, User.id == UserSession.user_id)
                .where(UserSession.token_hash == _digest(raw))
            )
        )
        .tuples()
        .one_or_none()
    )
    if row is None:
        raise AuthError("not logged in")
    user_session, user = row
    if (
        user_session.expires_at <= utc_now()
        or not user.active
        or user.role != user_session.role
        or user.municipality_id != user_session.municipality_id
    ):
        raise AuthError("session ended")
    return Principal(
        user.id,
        user.municipality_id,
        StaffRole(user.role),
        user.email,
        csrf_token=user_session.csrf_token,
        session_id=user_session.id,
    )


def check_csrf(principal: Principal, token: str | None) -> bool:
    """Whether ``token`` is the session's CSRF token (constant-time); tokens need none."""
    if principal.csrf_token is None:
        return True
    return token is not None and hmac.compare_digest(principal.csrf_token, token)


async def create_api_token(
    session: AsyncSession,
    user: User,
    *,
    name: str,
    lifetime: timedelta | None = timedelta(days=90),
) -> tuple[str, ApiToken]:
    """Create an API token for ``user``; return the raw token (shown once) and the row."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        municipality_id=user.municipality_id,
        name=name.strip()[:100] or "token",
        prefix=raw[:10],
        token_hash=_digest(raw),
        role=user.role,
        expires_at=utc_now() + lifetime if lifetime else None,
    )
    session.add(row)
    await session.flush()
    await record_audit(
        session,
        actor=f"user:{user.id}",
        action="token.created",
        municipality_id=user.municipality_id,
        object_type="api_token",
        object_id=str(row.id),
    )
    return raw, row


async def list_api_tokens(session: AsyncSession, user_id: uuid.UUID) -> list[ApiToken]:
    """List a user's API tokens (hashes only)."""
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    )
    return list(rows.all())


async def delete_api_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    """Revoke one of a user's API tokens.

    Raises:
        NotFound: The user has no such token.
    """
    result = await session.execute(
        delete(ApiToken).where(ApiToken.user_id == user_id, ApiToken.id == token_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound("token not found")


async def resolve_api_token(session: AsyncSession, raw: str) -> Principal:
    """Return who an API token belongs to.

    Raises:
        AuthError: Unknown or expired token, inactive user, or changed role.
    """
    row = (
        (
            await session.execute(
                select(ApiToken, User)
                .join(User, User.id == ApiToken.user_id)
                .where(ApiToken.token_hash == _digest(raw))
            )
        )
        .tuples()
        .one_or_none()
    )
    if row is None:
        raise AuthError("invalid token")
    token, user = row
    now = utc_now()
    if (token.expires_at is not None and token.expires_at <= now) or not user.active:
        raise AuthError("invalid token")
    if user.role != token.role or user.municipality_id != token.municipality_id:
        raise AuthError("invalid token")
    token.last_used_at = now
    return Principal(user.id, user.municipality_id, StaffRole(user.role), user.email)


async def add_round_owner(
    session: AsyncSession, *, municipality_id: uuid.UUID, round_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Record that a jongerenwerker owns a round."""
    session.add(RoundOwner(municipality_id=municipality_id, round_id=round_id, user_id=user_id))
    await session.flush()


async def owned_round_ids(
    session: AsyncSession, *, municipality_id: uuid.UUID, user_id: uuid.UUID
) -> set[uuid.UUID]:
    """The ids of the rounds a user owns in a municipality."""
    stmt = scoped(select(RoundOwner.round_id), municipality_id, RoundOwner).where(
        RoundOwner.user_id == user_id
    )
    return set((await session.scalars(stmt)).all())


async def purge_login_failures(session: AsyncSession, now: datetime) -> int:
    """Delete login failures older than the back-off window."""
    result = await session.execute(
        delete(LoginFailure).where(LoginFailure.created_at < now - FAILURE_WINDOW)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
