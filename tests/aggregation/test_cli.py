import json
from pathlib import Path

from typer.testing import CliRunner

from jeugdstem.commands.cluster import cluster_app

from .conftest import CANARY, MONEY, SAFETY, SCHOOL

runner = CliRunner()


def _write_input(path: Path) -> list[str]:
    ids = []
    with path.open("w", encoding="utf-8") as fh:
        for i, text in enumerate(SCHOOL + MONEY + SAFETY):
            record = {"id": f"a{i}", "text": text, "role": "jongere", "kind": "zorg"}
            if i % 2:
                record["respondent_id"] = f"r{i}"
            fh.write(json.dumps(record) + "\n")
            ids.append(f"a{i}")
        fh.write("\n")
        fh.write(json.dumps({"id": "q1", "text": CANARY}) + "\n")
    return ids


class TestClusterCommand:
    def test_writes_one_line_per_answer_and_summary(self, tmp_path: Path) -> None:
        inp, out, summ = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "s.json"
        ids = _write_input(inp)
        (tmp_path / "excl.txt").write_text("q1\n", encoding="utf-8")
        result = runner.invoke(
            cluster_app,
            [
                "--input",
                str(inp),
                "--output",
                str(out),
                "--summary",
                str(summ),
                "--k-min",
                "5",
                "--exclude",
                str(tmp_path / "excl.txt"),
            ],
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["id"] for r in rows] == ids
        assert all({"id", "theme_id", "theme_label", "score"} <= set(r) for r in rows)
        summary = json.loads(summ.read_text(encoding="utf-8"))
        assert summary["model_version"].startswith("jeugdstem-themes/1:guided")
        assert CANARY not in out.read_text(encoding="utf-8") + summ.read_text(encoding="utf-8")

    def test_discover_with_k_and_summary_on_stderr(self, tmp_path: Path) -> None:
        inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        _write_input(inp)
        result = runner.invoke(
            cluster_app,
            ["--input", str(inp), "--output", str(out), "--mode", "discover", "--k", "3"],
        )
        assert result.exit_code == 0, result.output
        assert "discover" in result.output
        assert {json.loads(x)["theme_id"] for x in out.read_text().splitlines()} <= {
            "cluster_1",
            "cluster_2",
            "cluster_3",
        }

    def test_bad_line_names_line_number(self, tmp_path: Path) -> None:
        inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        inp.write_text('{"id": "a", "text": "x"}\n\n{"id": "b", "text": \n', encoding="utf-8")
        result = runner.invoke(cluster_app, ["--input", str(inp), "--output", str(out)])
        assert result.exit_code == 2
        assert "line 3" in result.output

    def test_missing_text_field(self, tmp_path: Path) -> None:
        inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        inp.write_text('{"id": "a", "text": "x"}\n{"id": "b"}\n', encoding="utf-8")
        result = runner.invoke(cluster_app, ["--input", str(inp), "--output", str(out)])
        assert result.exit_code == 2
        assert "line 2" in result.output
        assert "text" in result.output

    def test_bad_taxonomy(self, tmp_path: Path) -> None:
        inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
        _write_input(inp)
        tax = tmp_path / "t.yaml"
        tax.write_text("themes: []\n", encoding="utf-8")
        result = runner.invoke(
            cluster_app, ["--input", str(inp), "--output", str(out), "--taxonomy", str(tax)]
        )
        assert result.exit_code == 2
        assert "taxonomy" in result.output
