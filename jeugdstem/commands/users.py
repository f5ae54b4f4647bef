"""``jeugdstem users``: create the first admin (and other staff accounts) from the shell."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console

from surveys import accounts, db, service
from surveys.exceptions import SurveysError
from surveys.models import StaffRole
from surveys.settings import get_settings

users_app = typer.Typer(help="Staff accounts of the admin.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@users_app.command("create")
def create(
    email: Annotated[str, typer.Option(help="E-mail address (the login name).")],
    municipality: Annotated[str, typer.Option(help="Municipality slug.")],
    role: Annotated[StaffRole, typer.Option(help="Role.")] = StaffRole.admin,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    municipality_name: Annotated[
        str | None, typer.Option(help="Create the municipality with this name if it is new.")
    ] = None,
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="At least 12 characters."
        ),
    ] = "",
    database_url: Annotated[str | None, typer.Option("--database-url")] = None,
) -> None:
    """Create a staff account (e.g. the first admin of a municipality)."""

    async def work() -> str:
        engine = db.create_engine(db.normalise_url(database_url or get_settings().database_url))
        try:
            maker = db.create_sessionmaker(engine)
            async with maker() as session, session.begin():
                try:
                    town = await service.get_municipality(session, municipality)
                except SurveysError:
                    if not municipality_name:
                        raise
                    town = await service.create_municipality(
                        session, slug=municipality, name=municipality_name
                    )
                user = await accounts.create_user(
                    session,
                    municipality_id=town.id,
                    email=email,
                    password=password,
                    role=role,
                    name=name,
                    actor="cli",
                )
                return user.email
        finally:
            await engine.dispose()

    try:
        created = asyncio.run(work())
    except SurveysError as exc:
        err.print(f"[red]Error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(f"User {created} created with role {role.value}.")
