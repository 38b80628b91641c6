"""Interaction physics: hadronic, inverse-Compton, bremsstrahlung and gamma-gamma emission/absorption kernels."""
