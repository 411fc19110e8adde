"""Maps the three source folders onto one import namespace.

sdk/ -> fewstep, domains/ -> fewstep.domains, kernels/ -> fewstep.kernels (DESIGN.md, "Layout").
Only this mapping lives here; all metadata is in pyproject.toml.
"""

from setuptools import find_packages, setup

ROOTS = {"fewstep": "sdk", "fewstep.domains": "domains", "fewstep.kernels": "kernels"}


def _packages() -> list[str]:
    names = []
    for prefix, folder in ROOTS.items():
        names.append(prefix)
        names += [f"{prefix}.{sub}" for sub in find_packages(where=folder)]
    return names


setup(packages=_packages(), package_dir=ROOTS, package_data={"": ["configs/*.yaml"]})
