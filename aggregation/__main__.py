"""`python -m aggregation summarise|assign ROUND`: theme jobs for one round (DATABASE_URL)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from aggregation import jobs
from aggregation.exceptions import AggregationError
from aggregation.settings import get_settings
from surveys import db, service
from surveys.exceptions import SurveysError
from surveys.models import ThemeRun
from surveys.settings import get_settings as surveys_settings


async def _run(args: argparse.Namespace) -> str:
    engine = db.create_engine(args.database_url or surveys_settings().database_url)
    maker = db.create_sessionmaker(engine)
    try:
        async with maker() as session:
            round_ = await service.find_round(session, args.round)
        if args.command == "assign":
            count = await jobs.assign_new_answers(maker, round_.id)
            return f"{count} new answers assigned to the themes of '{round_.title}'."
        k_min = args.k_min or get_settings().min_group_size
        run_id = await jobs.summarise_round(
            maker, round_.id, mode=args.mode, k=args.k, k_min=k_min, random_state=args.seed
        )
        async with maker() as session:
            run = await session.get(ThemeRun, run_id)
        assert run is not None
        shown = sum(1 for t in run.summary["themes"] if t["size"] != "suppressed")
        return (
            f"Round '{round_.title}': {len(run.summary['themes'])} themes "
            f"({shown} large enough to show), {run.total_respondents} respondents, "
            f"model {run.model_version}."
        )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the job and print a one-line result."""
    parser = argparse.ArgumentParser(prog="python -m aggregation", description=__doc__)
    parser.add_argument("command", choices=["summarise", "assign"])
    parser.add_argument("round", help="round id or start code")
    parser.add_argument("--mode", choices=["guided", "discover"], default="guided")
    parser.add_argument("--k", type=int, default=None)
    parser.add_argument("--k-min", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    try:
        print(asyncio.run(_run(args)))  # noqa: T201 - a CLI prints its result
    except (AggregationError, SurveysError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
