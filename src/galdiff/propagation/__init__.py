"""Cosmic-ray propagation: grid, transport coefficients, steady-state solver, Green's functions.

Axis order of every (energy, space) array: ``(E, r, z)``. See :mod:`.solver` for the equation,
units and numerical method, :mod:`.greens` for the Sun-row Green's functions and HDF5 files.
"""

from .coefficients import TABLE_I, DiffusionParameters, dr_coefficients
from .greens import (
    propagate_spectrum,
    read_density_h5,
    read_greens_h5,
    sun_greens_matrix,
    sun_intensity,
    write_density_h5,
    write_greens_h5,
)
from .grid import Grid
from .solver import PropagationSetup, SteadyStateSolver, intensity_from_density

__all__ = [
    "TABLE_I",
    "DiffusionParameters",
    "Grid",
    "PropagationSetup",
    "SteadyStateSolver",
    "dr_coefficients",
    "intensity_from_density",
    "propagate_spectrum",
    "read_density_h5",
    "read_greens_h5",
    "sun_greens_matrix",
    "sun_intensity",
    "write_density_h5",
    "write_greens_h5",
]
