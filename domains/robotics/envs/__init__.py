"""Environments that need no download: 2-D navigation with obstacles and a bird's-eye driving scene."""
