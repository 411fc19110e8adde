"""Domain packages: audio, protein, shape3d, video, language, robotics."""
