"""fewstep.domains.protein: a Proteina-style Cα backbone flow model distilled by Score identity Distillation.

Papers: Geffner et al. 2025, "Proteina: Scaling Flow-based Protein Structure Generative Models"
(arXiv:2503.00710); Zhou et al. 2024, "Score identity Distillation" (arXiv:2404.04057); Xie et al. 2025,
"Distilled Protein Backbone Generation" (arXiv:2510.03095). Time convention: t = 0 data, t = 1 noise
(Proteina's own time, t = 1 data, is flipped at the edges). Coordinates: Å in files and metrics, nm and
centred reduced coordinates (b, N - 1, 3) inside the networks (:mod:`.centring`).
"""

from fewstep.domains.protein.centring import centre, from_reduced, helmert_basis, random_rotations, to_reduced
from fewstep.domains.protein.data import BackboneSet, principal_frame, structure_files
from fewstep.domains.protein.descriptors import descriptor, descriptor_frechet, descriptors
from fewstep.domains.protein.distill import ProteinSiD, log_grid_times, without_self_conditioning
from fewstep.domains.protein.io import Backbone, load_backbone, save_backbone
from fewstep.domains.protein.model import PairBiasedBlock, ProteinaConfig, ProteinaMini, neighbour_offsets
from fewstep.domains.protein.pipeline import FULL, QUICK, TINY, ProteinScale, train_student, train_teacher
from fewstep.domains.protein.procedural import Fold, ProceduralBackbone, make_backbone, procedural_backbones
from fewstep.domains.protein.quality import DesignabilityOracle, designability, quality_summary, sse_string
from fewstep.domains.protein.sampling import (
    MeanStart,
    SelfConditioned,
    generator_grid,
    sample_student,
    sample_teacher,
)
from fewstep.domains.protein.similarity import diversity, novelty, tm_score

__all__ = [
    "FULL",
    "MeanStart",
    "QUICK",
    "TINY",
    "Backbone",
    "BackboneSet",
    "DesignabilityOracle",
    "Fold",
    "PairBiasedBlock",
    "ProceduralBackbone",
    "ProteinSiD",
    "ProteinScale",
    "ProteinaConfig",
    "ProteinaMini",
    "SelfConditioned",
    "centre",
    "descriptor",
    "descriptor_frechet",
    "descriptors",
    "designability",
    "diversity",
    "from_reduced",
    "generator_grid",
    "helmert_basis",
    "load_backbone",
    "log_grid_times",
    "make_backbone",
    "neighbour_offsets",
    "novelty",
    "principal_frame",
    "procedural_backbones",
    "quality_summary",
    "random_rotations",
    "sample_student",
    "sample_teacher",
    "save_backbone",
    "sse_string",
    "structure_files",
    "tm_score",
    "to_reduced",
    "train_student",
    "train_teacher",
    "without_self_conditioning",
]
