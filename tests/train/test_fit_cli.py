"""`fewstep fit`: single process and DDP, exact resume, pretrained export, CLI errors."""

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fewstep.cli import main
from fewstep.hub import from_pretrained, load_checkpoint_state
from fewstep.train.lightning_cli import run_lightning

SMALL = ["--config", "toy2d_teacher", "data.init_args.size=1024", "trainer.enable_progress_bar=false",
         "trainer.enable_model_summary=false", "model.init_args.model.init_args.config.width=32"]


def epoch_losses(log_dir: Path) -> list[float]:
    rows = list(csv.DictReader((log_dir / "metrics.csv").open()))
    by_epoch: dict[int, list[float]] = {}
    for row in rows:
        if row.get("train/loss"):
            by_epoch.setdefault(int(row["epoch"]), []).append(float(row["train/loss"]))
    return [sum(v) / len(v) for _, v in sorted(by_epoch.items())]


def fit_subprocess(tmp: Path, *extra: str) -> Path:
    cmd = [sys.executable, "-m", "fewstep", "fit", *SMALL, "trainer.max_epochs=6", "trainer.log_every_n_steps=1",
           f"trainer.logger.init_args.save_dir={tmp}", *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return tmp / "lightning_logs" / "version_0"


@pytest.mark.slow
def test_fit_single_process_and_ddp_agree_in_trend(tmp_path):
    single = epoch_losses(fit_subprocess(tmp_path / "single"))
    ddp_dir = fit_subprocess(tmp_path / "ddp", "trainer.devices=2", "trainer.strategy=ddp")
    ddp = epoch_losses(ddp_dir)
    assert len(single) == len(ddp) == 6
    assert single[-1] < 0.9 * single[0] and ddp[-1] < 0.9 * ddp[0]
    assert abs(single[-1] - ddp[-1]) < 0.25 * single[-1]
    model = from_pretrained(ddp_dir / "pretrained")  # rank 0 exported the EMA weights
    assert model(torch.zeros(3, 2), torch.full((3,), 0.5)).shape == (3, 2)


def _final_state(log_dir: Path) -> dict[str, torch.Tensor]:
    ckpt = load_checkpoint_state(log_dir / "checkpoints" / "last.ckpt")
    state = {f"model.{k}": v for k, v in ckpt["state_dict"].items()}
    for key, value in ckpt["callbacks"].items():
        if key.startswith("EMACallback"):
            state.update({f"ema.{k}": v for k, v in value.items()})
    return state


def test_interrupt_and_resume_matches_an_uninterrupted_run(tmp_path):
    common = [*SMALL, "trainer.deterministic=true"]
    run_lightning([*common, "trainer.max_epochs=4", f"trainer.logger.init_args.save_dir={tmp_path / 'full'}"])
    run_lightning([*common, "trainer.max_epochs=2", f"trainer.logger.init_args.save_dir={tmp_path / 'part'}"])
    part_ckpt = tmp_path / "part" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    run_lightning([*common, "trainer.max_epochs=4", f"trainer.logger.init_args.save_dir={tmp_path / 'part'}",
                   f"--ckpt_path={part_ckpt}"])
    full = _final_state(tmp_path / "full" / "lightning_logs" / "version_0")
    resumed = _final_state(tmp_path / "part" / "lightning_logs" / "version_1")
    assert full.keys() == resumed.keys() and any(k.startswith("ema.") for k in full)
    for key in full:
        torch.testing.assert_close(resumed[key], full[key], atol=1e-6, rtol=0, msg=key)


def test_cli_help_lists_domains_and_methods(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for word in ("protein", "robotics", "language", "sid", "dmd", "toy2d_teacher"):
        assert word in text


def test_cli_reports_bad_config_name(capsys):
    assert main(["fit", "--config", "no_such_config"]) == 2
    assert "no_such_config" in capsys.readouterr().err


def test_distill_trains_a_student_from_an_exported_teacher(tmp_path):
    run_lightning([*SMALL, "trainer.max_epochs=1", f"trainer.logger.init_args.save_dir={tmp_path / 'teacher'}"])
    teacher_dir = tmp_path / "teacher" / "lightning_logs" / "version_0" / "pretrained"
    assert main(["distill", "--config", "toy2d_distill_sid", "data.init_args.size=1024",
                 f"model.init_args.distiller.init_args.teacher.init_args.directory={teacher_dir}",
                 "trainer.max_epochs=2", "trainer.log_every_n_steps=1", "trainer.enable_progress_bar=false",
                 f"trainer.logger.init_args.save_dir={tmp_path / 'student'}"]) == 0
    rows = list(csv.DictReader((tmp_path / "student" / "lightning_logs" / "version_0" / "metrics.csv").open()))
    fake = [float(r["train/fake_score/loss"]) for r in rows if r.get("train/fake_score/loss")]
    assert len(fake) == 8 and all(r.get("train/student/grad_norm") for r in rows if r.get("train/student/loss"))
    assert sum(fake[-3:]) < sum(fake[:3])  # the fake score learns the generator's distribution
