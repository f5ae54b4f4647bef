import json

from typer.testing import CliRunner

from jeugdstem.commands.privacy import privacy_app, safeguarding_app

runner = CliRunner()


def jsonl(*records: object) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


class TestPrivacyScrub:
    def test_scrubs_lines(self) -> None:
        stdin = jsonl({"id": "a", "text": "bel me 06-12345678"}, {"id": 2, "text": "hoi"})
        result = runner.invoke(privacy_app, ["scrub"], input=stdin)
        assert result.exit_code == 0, result.output
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert out == [
            {
                "id": "a",
                "text": "bel me [telefoon]",
                "spans": [{"start": 7, "end": 18, "type": "phone"}],
            },
            {"id": 2, "text": "hoi", "spans": []},
        ]

    def test_bad_lines_reported_and_rest_processed(self) -> None:
        stdin = jsonl(
            {"id": 1, "text": "ik heet Daan"},
            "this is not json 0612345678",
            {"id": 3},
            ["not", "an", "object"],
            {"id": 5, "text": "mail a@b.nl"},
        )
        result = runner.invoke(privacy_app, ["scrub"], input=stdin)
        assert result.exit_code == 1
        ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
        assert ids == [1, 5]
        assert "line 2" in result.stderr
        assert "line 3" in result.stderr
        assert "line 4" in result.stderr
        assert "0612345678" not in result.stderr  # never echo the text

    def test_schools_file(self, tmp_path: object) -> None:
        from pathlib import Path

        path = Path(str(tmp_path)) / "schools.txt"
        path.write_text("# local schools\nDe Springplank\n", encoding="utf-8")
        stdin = jsonl({"id": 1, "text": "ik zit op de springplank"})
        result = runner.invoke(privacy_app, ["scrub", "--schools", str(path)], input=stdin)
        assert result.exit_code == 0
        assert json.loads(result.stdout)["spans"][0]["type"] == "school"


class TestSafeguardingClassify:
    def test_classifies(self) -> None:
        stdin = jsonl(
            {"id": 1, "text": "ik wil niet meer leven"},
            {"id": 2, "text": "meer bankjes in het park"},
            {"id": 3, "text": "mijn stiefvader slaat me"},
        )
        result = runner.invoke(safeguarding_app, ["classify"], input=stdin)
        assert result.exit_code == 0
        out = [json.loads(line) for line in result.stdout.splitlines()]
        assert out == [
            {"id": 1, "category": "crisis", "subtype": "suicide"},
            {"id": 2, "category": "none", "subtype": None},
            {"id": 3, "category": "disclosure", "subtype": "domestic_violence"},
        ]

    def test_bad_line(self) -> None:
        stdin = jsonl({"id": 1, "text": 5}, {"id": 2, "text": "ok"})
        result = runner.invoke(safeguarding_app, ["classify"], input=stdin)
        assert result.exit_code == 1
        assert "line 1" in result.stderr
        assert json.loads(result.stdout)["id"] == 2

    def test_empty_input(self) -> None:
        result = runner.invoke(safeguarding_app, ["classify"], input="")
        assert result.exit_code == 0
        assert result.stdout == ""
