"""Which role may do what: the one table every route checks against (default deny)."""

from __future__ import annotations

from enum import StrEnum

from surveys.models import StaffRole

A, J, B, S = (
    StaffRole.admin,
    StaffRole.jongerenwerker,
    StaffRole.beleidsmedewerker,
    StaffRole.safeguarding,
)


class Permission(StrEnum):
    """An action in the admin."""

    manage_users = "manage_users"
    manage_settings = "manage_settings"
    read_rounds = "read_rounds"
    manage_rounds = "manage_rounds"
    read_themes = "read_themes"
    run_clustering = "run_clustering"
    edit_themes = "edit_themes"
    review_quotes = "review_quotes"
    duiding = "duiding"
    export = "export"
    read_quarantine = "read_quarantine"
    use_api_tokens = "use_api_tokens"


ROLES: dict[Permission, frozenset[StaffRole]] = {
    Permission.manage_users: frozenset({A}),
    Permission.manage_settings: frozenset({A}),
    Permission.read_rounds: frozenset({A, J, B}),
    Permission.manage_rounds: frozenset({A, J}),
    Permission.read_themes: frozenset({A, J, B}),
    Permission.run_clustering: frozenset({A, J, B}),
    Permission.edit_themes: frozenset({A, B}),
    # Reading answer text (the quote-review queue) is for the policy officer only.
    Permission.review_quotes: frozenset({B}),
    Permission.duiding: frozenset({A, B}),
    Permission.export: frozenset({A, J, B}),
    Permission.read_quarantine: frozenset({S}),
    Permission.use_api_tokens: frozenset({A, J, B, S}),
}

# A jongerenwerker sees and manages only the rounds they own.
OWN_ROUNDS_ONLY = frozenset({J})


def allowed(role: StaffRole, permission: Permission) -> bool:
    """Whether ``role`` has ``permission``."""
    return role in ROLES[permission]
