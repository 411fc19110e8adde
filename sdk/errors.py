"""The fewstep exception hierarchy.

Everything a user can cause raises a subclass of :class:`FewstepError`; each message names the
argument, field or file, the value received and what was expected. The subclasses also derive
from the matching built-in (``ValueError``, ``TypeError``, ``OSError``) so generic handlers work.
"""

from __future__ import annotations


class FewstepError(Exception):
    """Base class of every error fewstep raises on purpose."""


class ConfigError(FewstepError, ValueError):
    """A configuration field or keyword argument has a bad value or an unknown name."""


class ShapeError(FewstepError, ValueError):
    """A tensor has the wrong shape, rank or dtype for the operation."""


class TimeDomainError(FewstepError, ValueError):
    """t lies outside [0, 1] or outside the path's support."""


class DataError(FewstepError, ValueError):
    """A data file or sample cannot be read or is malformed; the message names the file."""


class CheckpointError(FewstepError, OSError):
    """A checkpoint or pretrained folder is missing, incomplete or refuses to load."""


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint would need unpickling arbitrary objects; fewstep never does that."""


class NumericalError(FewstepError, ArithmeticError):
    """Training produced NaN or infinite values where finite ones are required."""


__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "FewstepError",
    "NumericalError",
    "ShapeError",
    "TimeDomainError",
    "UnsafeCheckpointError",
]
