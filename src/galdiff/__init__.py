"""galdiff: the Galactic diffuse gamma-ray and neutrino sky from GeV to PeV.

Subpackages: :mod:`galdiff.data` (registry, verified downloads, tidy tables),
:mod:`galdiff.propagation` (cosmic-ray transport), :mod:`galdiff.interactions`
(cross sections), :mod:`galdiff.plotting` (figures).
"""

__version__ = "0.1.0"
