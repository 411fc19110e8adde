import pytest
import torch

from fewstep.errors import CheckpointError, ConfigError, UnsafeCheckpointError
from fewstep.hub import from_pretrained, load_checkpoint_state, save_pretrained
from fewstep.nn import MLPConfig, TimeMLP, TokenTransformer, TokenTransformerConfig


def test_save_then_load_reproduces_outputs_exactly(tmp_path):
    model = TimeMLP(MLPConfig(dim=3, width=16, depth=2, time_inputs=2))
    save_pretrained(model, tmp_path / "mlp")
    loaded = from_pretrained(tmp_path / "mlp")
    x, t, s = torch.randn(5, 3), torch.rand(5), torch.rand(5)
    assert torch.equal(model.eval()(x, t, s), loaded(x, t, s))
    tokens = TokenTransformer(TokenTransformerConfig(num_classes=7, max_len=8, width=16, depth=1, heads=2))
    save_pretrained(tokens, tmp_path / "tok")
    z = torch.randint(0, 7, (2, 8))
    assert torch.equal(tokens.eval()(z, torch.rand(2)), from_pretrained(tmp_path / "tok")(z, torch.rand(2)))


def test_pickled_checkpoint_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    torch.save({"weights": torch.ones(2), "payload": Payload()}, tmp_path / "bad.ckpt")
    with pytest.raises(UnsafeCheckpointError, match="bad.ckpt: contains pickled Python objects"):
        load_checkpoint_state(tmp_path / "bad.ckpt")
    torch.save({"weights": torch.ones(2)}, tmp_path / "good.ckpt")
    assert torch.equal(load_checkpoint_state(tmp_path / "good.ckpt")["weights"], torch.ones(2))


def test_incomplete_or_unknown_folders_are_reported(tmp_path):
    with pytest.raises(CheckpointError, match="missing model.safetensors"):
        from_pretrained(tmp_path)
    save_pretrained(TimeMLP(MLPConfig(dim=2, width=8, depth=1)), tmp_path / "m")
    text = (tmp_path / "m" / "config.yaml").read_text().replace("time_mlp", "os_system")
    (tmp_path / "m" / "config.yaml").write_text(text)
    with pytest.raises(CheckpointError, match="'os_system' is not a registered model"):
        from_pretrained(tmp_path / "m")
    with pytest.raises(ConfigError, match="pretrained_init_args"):
        save_pretrained(torch.nn.Linear(2, 2), tmp_path / "lin")


def test_cli_samples_a_pretrained_folder_and_evaluates_it(tmp_path, capsys):
    from fewstep.cli import main

    save_pretrained(TimeMLP(MLPConfig(dim=2, width=8, depth=1)), tmp_path / "m")
    out, plot = tmp_path / "s.npy", tmp_path / "s.png"
    assert main(["sample", str(tmp_path / "m"), "--n", "300", "--nfe", "4", "--sampler", "heun",
                 "--out", str(out), "--plot", str(plot)]) == 0
    assert plot.stat().st_size > 5000
    assert main(["evaluate", str(out), "--dataset", "mixture2d"]) == 0
    printed = capsys.readouterr().out
    assert "sliced_w" in printed and "precision" in printed
    assert main(["sample", str(tmp_path / "m"), "--nfe", "3", "--sampler", "heun"]) == 2
    assert "multiple of 2" in capsys.readouterr().err
