"""Acceptance 2: procedural data has the SSE it claims under P-SEA; centring is preserved by every sampler step."""

import numpy as np
import pytest
import torch

from fewstep.domains.protein import (
    Fold,
    ProteinaConfig,
    ProteinaMini,
    ProteinSiD,
    from_reduced,
    helmert_basis,
    load_backbone,
    make_backbone,
    procedural_backbones,
    random_rotations,
    save_backbone,
    sse_string,
    to_reduced,
)
from fewstep.domains.protein.sampling import MeanStart, SelfConditioned, generator_grid
from fewstep.paths import LinearPath
from fewstep.samplers import ConsistencySampler, EulerSampler, SDESampler, log_grid


@pytest.mark.parametrize("fold", list(Fold), ids=lambda f: f.name)
@pytest.mark.parametrize("length", [32, 64, 128])
def test_procedural_sse_matches_psea_and_geometry_is_realistic(fold, length):
    backbone = make_backbone(fold, length, np.random.default_rng(length))
    assert backbone.ca.shape == (length, 3) and len(backbone.sse) == length
    bonds = np.linalg.norm(np.diff(backbone.ca, axis=0), axis=1)
    np.testing.assert_allclose(bonds, 3.8, atol=0.05)
    assert np.abs(backbone.ca.mean(axis=0)).max() < 1e-9
    predicted = sse_string(backbone.ca)
    agreement = np.mean([a == b for a, b in zip(predicted, backbone.sse)])
    assert agreement >= 0.75, (fold, predicted, backbone.sse)
    main = {Fold.HELIX: "a", Fold.HELIX_BUNDLE: "a", Fold.STRAND: "b", Fold.BETA_MEANDER: "b", Fold.LOOP: "c"}[fold]
    assert predicted.count(main) / length >= 0.6


def test_procedural_set_labels_and_files(tmp_path):
    data = procedural_backbones(10, lengths=(32, 40), seed=3)
    assert {b.fold for b in data} == set(Fold)
    path = save_backbone(data[2].ca, tmp_path / "bundle.cif")
    np.testing.assert_allclose(load_backbone(path).ca, data[2].ca, atol=1e-3)


def test_helmert_basis_and_reduced_coordinates_round_trip():
    h = helmert_basis(9).double()
    torch.testing.assert_close(h.T @ h, torch.eye(8, dtype=torch.float64))
    torch.testing.assert_close(h.sum(dim=0), torch.zeros(8, dtype=torch.float64))
    x = torch.randn(2, 9, 3, dtype=torch.float64)
    x = x - x.mean(dim=1, keepdim=True)
    torch.testing.assert_close(from_reduced(to_reduced(x)), x)
    rot = random_rotations(4, torch.Generator().manual_seed(0), torch.float64)
    torch.testing.assert_close(rot @ rot.transpose(1, 2), torch.eye(3, dtype=torch.float64).expand(4, 3, 3))
    torch.testing.assert_close(torch.det(rot), torch.ones(4, dtype=torch.float64))


def _tiny_model() -> ProteinaMini:
    torch.manual_seed(0)
    model = ProteinaMini(ProteinaConfig(width=16, depth=1, heads=2, max_separation=4)).eval()
    torch.nn.init.normal_(model.out.weight, std=0.1)  # non-zero output so the check is not trivial
    return model


def test_centring_is_preserved_by_every_sampler_step():
    model, path = _tiny_model(), LinearPath()
    noise = torch.randn(3, 11, 3, generator=torch.Generator().manual_seed(1))  # reduced coordinates, N = 12
    grid = log_grid(12)
    runs = {
        "sde": SDESampler(path, gamma=0.45).sample(SelfConditioned(model), noise, grid, keep_trajectory=True),
        "ode": EulerSampler().sample(lambda x, t: model(x, t), noise, grid, keep_trajectory=True),
    }
    sid = ProteinSiD(model, steps=4)
    runs["student"] = ConsistencySampler(path, noise_scale=0.45).sample(
        MeanStart(sid.student.student, 0.45), noise, generator_grid(4), keep_trajectory=True)
    for name, out in runs.items():
        states = [from_reduced(s) for s in out.trajectory]
        assert len(states) == out.nfe
        for state in states:
            assert state.shape == (3, 12, 3)
            assert state.mean(dim=1).abs().max() < 1e-5, name
        assert states[-1].abs().max() > 1e-3
