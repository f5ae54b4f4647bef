"""File-level helpers for the ``jeugdstem cluster`` command: JSONL in, JSONL/JSON out."""

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from aggregation.clustering import AnswerText, ThemeAssignment
from aggregation.exceptions import InvalidInputError
from aggregation.summaries import RoundSummary


def parse_answer_line(line: str, line_number: int) -> AnswerText | None:
    """Parse one JSONL line into an :class:`AnswerText` (None for a blank line).

    Required keys are ``id`` and ``text``; ``respondent_id`` defaults to the id, ``role`` and
    ``kind`` are optional.

    Args:
        line: The raw line.
        line_number: 1-based line number, used in error messages.

    Returns:
        The answer, or None if the line is blank.

    Raises:
        InvalidInputError: If the line is not a JSON object with a string ``id`` and ``text``.
    """
    if not line.strip():
        return None
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"invalid JSON ({exc.msg})", line_number=line_number) from exc
    if not isinstance(data, dict):
        raise InvalidInputError("expected a JSON object", line_number=line_number)
    answer_id, text = data.get("id"), data.get("text")
    if isinstance(answer_id, int) and not isinstance(answer_id, bool):
        answer_id = str(answer_id)
    if not isinstance(answer_id, str) or not answer_id:
        raise InvalidInputError("missing or invalid 'id'", line_number=line_number)
    if not isinstance(text, str):
        raise InvalidInputError("missing or invalid 'text'", line_number=line_number)
    respondent = data.get("respondent_id") or answer_id
    try:
        return AnswerText(
            id=answer_id,
            text=text,
            respondent_id=str(respondent),
            role=data.get("role"),
            kind=data.get("kind"),
        )
    except InvalidInputError as exc:
        raise InvalidInputError(str(exc), line_number=line_number) from exc


def iter_answers(lines: Iterable[str]) -> Iterator[AnswerText]:
    """Parse JSONL lines, skipping blank ones (errors name the line number)."""
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        answer = parse_answer_line(line, number)
        if answer is None:
            continue
        if answer.id in seen:
            raise InvalidInputError(f"duplicate id {answer.id!r}", line_number=number)
        seen.add(answer.id)
        yield answer


def read_answers(path: Path) -> list[AnswerText]:
    """Read a JSONL file of answers.

    Raises:
        InvalidInputError: If the file cannot be read or a line is malformed.
    """
    try:
        with path.open(encoding="utf-8") as fh:
            return list(iter_answers(fh))
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8: {exc}") from exc


def write_assignments(assignments: Sequence[ThemeAssignment], out: TextIO) -> None:
    """Write one JSON line per answer: ``id``, ``theme_id``, ``theme_label``, ``score``.

    Secondary themes are added as ``secondary`` when present.
    """
    for a in assignments:
        record: dict[str, Any] = {
            "id": a.answer_id,
            "theme_id": a.theme_id,
            "theme_label": a.theme_label,
            "score": a.score,
        }
        if a.secondary:
            record["secondary"] = list(a.secondary)
        out.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_summary(summary: RoundSummary, out: TextIO) -> None:
    """Write the round summary as indented JSON."""
    json.dump(summary.to_dict(), out, ensure_ascii=False, indent=2)
    out.write("\n")


def read_summary(path: Path) -> dict[str, Any]:
    """Read an earlier round's summary JSON (for trends).

    Raises:
        InvalidInputError: If the file cannot be read or is not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read summary {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidInputError(f"summary {path} must be a JSON object")
    return data
