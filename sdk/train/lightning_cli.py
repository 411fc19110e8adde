"""fewstep's LightningCLI: YAML configs, dotted overrides, safe checkpoint loading."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import CSVLogger

from fewstep.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def _shipped() -> dict[str, Path]:
    """Shipped configs by name: the core's and every domain's ``configs/`` folder."""
    import fewstep.domains

    folders = [CONFIG_DIR, *(Path(p) / "*" / "configs" for p in fewstep.domains.__path__)]
    found: dict[str, Path] = {}
    for folder in folders:
        for file in sorted(Path(folder.anchor).glob(str(folder.relative_to(folder.anchor)) + "/*.yaml")):
            found.setdefault(file.stem, file)
    return found


def builtin_configs() -> list[str]:
    """Names of the configs shipped with fewstep (``fewstep fit --config NAME``)."""
    return sorted(_shipped())


def resolve_config(value: str) -> str:
    """A path to a YAML file, or the name of a shipped config."""
    if Path(value).is_file():
        return value
    shipped = _shipped()
    if value in shipped:
        return str(shipped[value])
    raise ConfigError(f"--config {value!r} is neither a file nor a shipped config; shipped: {builtin_configs()}")


def normalise_args(args: list[str]) -> list[str]:
    """Turns ``key.sub=value`` overrides into ``--key.sub=value`` and shipped config names into paths."""
    out: list[str] = []
    expect_config = False
    for arg in args:
        if expect_config:
            out.append(resolve_config(arg))
            expect_config = False
        elif arg == "--config":
            out.append(arg)
            expect_config = True
        elif arg.startswith("--config="):
            out.append("--config=" + resolve_config(arg.split("=", 1)[1]))
        elif not arg.startswith("-") and "=" in arg and "." in arg.split("=", 1)[0]:
            out.append("--" + arg)
        else:
            out.append(arg)
    return out


class FewstepCLI(LightningCLI):
    """LightningCLI in subclass mode: the config names the LightningModule and DataModule classes.

    Checkpoints are resumed with ``weights_only=True`` (never unpickled), logs go to CSV under the run
    directory, and the parser understands OmegaConf interpolation.
    """

    def add_arguments_to_parser(self, parser) -> None:
        parser.set_defaults({"trainer.logger": {"class_path": "lightning.pytorch.loggers.CSVLogger",
                                                "init_args": {"save_dir": "runs"}}})


def run_lightning(args: list[str]) -> FewstepCLI:
    """Runs ``fit`` through :class:`FewstepCLI` with ``args`` (after :func:`normalise_args`)."""
    argv = normalise_args(args)
    warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
    if any(a == "--ckpt_path" or a.startswith("--ckpt_path=") for a in argv):
        argv.append("--weights_only=true")
    return FewstepCLI(L.LightningModule, L.LightningDataModule, subclass_mode_model=True,
                      subclass_mode_data=True, args=["fit", *argv], parser_kwargs={"parser_mode": "omegaconf"},
                      save_config_kwargs={"overwrite": True})


__all__ = ["CSVLogger", "FewstepCLI", "builtin_configs", "normalise_args", "resolve_config", "run_lightning"]
