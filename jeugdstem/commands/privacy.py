"""Batch privacy tools: ``jeugdstem privacy scrub`` and ``jeugdstem safeguarding classify``.

Both read JSON Lines on stdin and write JSON Lines on stdout. A bad input line produces an error
on stderr naming the line number (never its text); the remaining lines are still processed and
the command exits non-zero at the end.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

from surveys.privacy import pii, safeguarding

privacy_app = typer.Typer(help="Privacy tools (PII scrubbing).", no_args_is_help=True)
safeguarding_app = typer.Typer(help="Safeguarding tools (crisis detection).", no_args_is_help=True)


@privacy_app.callback()
def _privacy() -> None:
    """Privacy tools (PII scrubbing)."""


@safeguarding_app.callback()
def _safeguarding() -> None:
    """Safeguarding tools (crisis and disclosure detection)."""


class _BadLine(ValueError):
    """A JSON Lines record that cannot be processed."""


def _parse(raw: str) -> tuple[Any, str]:
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _BadLine(f"invalid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise _BadLine("expected a JSON object")
    if "id" not in record:
        raise _BadLine('missing "id"')
    if not isinstance(record["id"], str | int) or isinstance(record["id"], bool):
        raise _BadLine('"id" must be a string or an integer')
    text = record.get("text")
    if not isinstance(text, str):
        raise _BadLine('"text" must be a string')
    return record["id"], text


def _run(lines: Iterable[str], handle: Callable[[Any, str], dict[str, Any]]) -> int:
    errors = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record_id, text = _parse(raw)
            out = handle(record_id, text)
        except _BadLine as exc:
            errors += 1
            typer.echo(f"line {number}: {exc}", err=True)
            continue
        typer.echo(json.dumps(out, ensure_ascii=False))
    if errors:
        typer.echo(f"{errors} line(s) could not be processed", err=True)
    return errors


def _read_schools(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(s.strip() for s in lines if s.strip() and not s.startswith("#"))


@privacy_app.command("scrub")
def scrub_command(
    schools: Annotated[
        Path | None,
        typer.Option(
            "--schools",
            help="Text file with one local school or association name per line.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
) -> None:
    """Scrub PII: reads {"id","text"} JSON Lines, writes {"id","text","spans"}."""
    school_names = _read_schools(schools)

    def handle(record_id: Any, text: str) -> dict[str, Any]:
        result = pii.scrub(text, schools=school_names)
        spans = [{"start": s.start, "end": s.end, "type": s.type} for s in result.spans]
        return {"id": record_id, "text": result.text, "spans": spans}

    if _run(sys.stdin, handle):
        raise typer.Exit(code=1)


@safeguarding_app.command("classify")
def classify_command() -> None:
    """Classify messages: reads {"id","text"} JSON Lines, writes {"id","category","subtype"}."""

    def handle(record_id: Any, text: str) -> dict[str, Any]:
        signal = safeguarding.classify(text)
        return {"id": record_id, "category": signal.category, "subtype": signal.subtype}

    if _run(sys.stdin, handle):
        raise typer.Exit(code=1)
