"""Dataset preparation: the synthetic scenes of the embedded default."""
