"""Acceptance 2: procedural data has the SSE it claims under P-SEA; centring is preserved by every sampler step."""

import numpy as np
import pytest
import torch

from fewstep.domains.protein import (
    BackboneSet,
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
from fewstep.domains.protein.data import principal_frame
from fewstep.domains.protein.descriptors import pseudo_torsions
from fewstep.domains.protein.model import neighbour_offsets
from fewstep.domains.protein.sampling import MeanStart, SelfConditioned, generator_grid
from fewstep.errors import ConfigError, ShapeError
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


def test_principal_frame_is_a_proper_rotation_that_forgets_the_input_pose():
    ca = torch.as_tensor(make_backbone(Fold.HELIX_BUNDLE, 40, np.random.default_rng(1)).ca) / 10
    rot = random_rotations(3, torch.Generator().manual_seed(2), torch.float64)
    framed = [principal_frame(ca @ r.T + 0.5) for r in rot]  # any pose and offset -> one frame
    for x in framed[1:]:
        torch.testing.assert_close(x, framed[0], atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.cdist(framed[0], framed[0]), torch.cdist(ca, ca), atol=1e-6, rtol=0)
    torch.testing.assert_close(pseudo_torsions(framed[0].numpy()), pseudo_torsions(ca.numpy()))  # chirality kept
    inertia = framed[0].T @ framed[0]
    assert inertia[0, 0] >= inertia[1, 1] >= inertia[2, 2] and inertia[0, 1].abs() < 1e-6
    with pytest.raises(ShapeError, match="chain"):
        principal_frame(torch.zeros(4, 2))


def test_principal_frame_batches_are_never_rotated():
    chains = [b.ca for b in procedural_backbones(6, lengths=(20,), seed=0)]
    data = BackboneSet(chains, frame="principal")
    batch = data.sample_batch(4, torch.Generator().manual_seed(0), reduced=False)
    assert any(torch.allclose(batch[0], c) for c in data.chains)
    with pytest.raises(ConfigError, match="frame"):
        BackboneSet(chains, frame="upright")


def test_neighbour_offsets_are_local_translation_invariant_and_zero_past_the_ends():
    x = torch.randn(2, 7, 3, dtype=torch.float64)
    off = neighbour_offsets(x, 2)
    assert off.shape == (2, 7, 12)
    torch.testing.assert_close(neighbour_offsets(x + 3.0, 2), off)
    torch.testing.assert_close(off[:, 2, 6:9], 10 * (x[:, 3] - x[:, 2]))  # k = +1, in Å
    torch.testing.assert_close(off[:, 2, 3:6], 10 * (x[:, 1] - x[:, 2]))  # k = -1
    assert off[:, 0, :6].abs().max() == 0 and off[:, -1, 6:].abs().max() == 0
