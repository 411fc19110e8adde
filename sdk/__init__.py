"""fewstep: few-step generative models across sciences.

Time convention everywhere: t in [0, 1], t = 0 is data and t = 1 is pure noise.
"""

__version__ = "0.1.0"
