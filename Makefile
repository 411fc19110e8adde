# The two README commands. Each one first does all set-up (system packages, Python packages) and
# is fast when repeated: set-up reruns only when pyproject.toml or setup.py change.
PYTHON ?= python3

.PHONY: demo test setup

.setup-stamp: pyproject.toml setup.py .ci/setup.sh
	bash .ci/setup.sh
	touch .setup-stamp

setup: .setup-stamp

demo: .setup-stamp
	$(PYTHON) -m fewstep demo

test: .setup-stamp
	$(PYTHON) -m pytest -q
