"""Training: plain loops for small models, Lightning modules and the CLI."""

from fewstep.train.loops import BatchSource, fit_teacher

__all__ = ["BatchSource", "fit_teacher"]
