"""Uncertainty bands from the fits' covariances (issue 13).

* :mod:`.sampling`: correlated draws of a fit's parameters from its HESSE covariance (seeded) and
  quantile bands of any function of them;
* :mod:`.bands`: bands of the local interstellar and modulated spectra (Figures 1, 2), each draw
  propagated through the Green's matrix (J = G Q, one matrix-vector product per draw), and the
  linear EXTRA-normalisation bands of the region spectra and headline numbers;
* :mod:`.io`: the band tables written to ``results/bands/`` and read by the figures.

The band's confidence levels and sample count are ``bands.*`` in the config (schema:
workflow/schemas/config.schema.yaml).
"""
