"""`leadrouter backtest` on bad input: an export where one reason rejects most rows exits 1 with the reason,
printing no replay, and --out still holds rejected.csv; a map with several problems exits 2 listing all."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tests.helpers.lead_exports import BROKEN_MAP_PROBLEMS, broken_map, lead, write_csv, write_map


def test_the_command_exits_1_printing_the_reason_and_writing_the_rejected_rows(tmp_path: Path) -> None:
    from commands.main import app

    map_path = write_map(tmp_path)
    path = write_csv(
        tmp_path / "leads.csv", [lead(i, "yesterday" if i < 3 else "03/04/2025") for i in range(4)]
    )
    out = CliRunner().invoke(
        app, ["backtest", "--leads", str(path), "--map", str(map_path), "--out", str(tmp_path / "o")]
    )
    assert out.exit_code == 1, out.output
    printed = out.output.replace("\n", "")
    assert "error stopped: 3 of 4 rows (75%) are rejected as bad_created_at" in printed
    assert "file CSV, UTF-8, comma-separated" in out.output
    assert "predicted tier" not in out.output  # no replay tables after a stop
    assert (tmp_path / "o" / "rejected.csv").read_text().count("bad_created_at") == 3


def test_a_map_with_several_problems_exits_2_listing_them_all(tmp_path: Path) -> None:
    from commands.main import app

    path = tmp_path / "broken.yaml"
    path.write_text(broken_map(), encoding="utf-8")
    out = CliRunner().invoke(app, ["backtest", "--leads", str(write_csv(tmp_path / "leads.csv", [lead(0)])),
                                   "--map", str(path)])  # fmt: skip
    assert out.exit_code == 2
    printed = out.output.replace("\n", "")
    assert all(f"{path}:{line}: {field}" in printed for line, field in BROKEN_MAP_PROBLEMS)
