"""GoalFlow (Xing et al., CVPR 2025, arXiv:2503.05689): goal vocabulary, goal scorer, goal-conditioned
rectified-flow trajectories and a trajectory scorer."""
