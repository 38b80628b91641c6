"""Line-of-sight integration and HEALPix map cubes (issue 5).

:mod:`.geometry` (observer, volume, HEALPix directions, LOS steps), :mod:`.operator` (the sparse
LOS operator W, pair absorption, direct Numba integration, operator cache files),
:mod:`.reference` (slow NumPy reference), :mod:`.cube` (FITS map cubes in the gammapy GADF HEALPix
layout, Fermi-style CAR cubes, energy-integrated maps).
"""

from .cube import (
    INTENSITY_UNIT,
    HealpixCube,
    healpix_cube_to_car,
    integrate_over_energy,
    read_healpix_cube,
    write_car_cube,
    write_healpix_cube,
)
from .geometry import (
    LineOfSightGeometry,
    count_steps,
    default_shell_edges_kpc,
    direction_cosines,
    exit_distance_kpc,
    healpix_directions,
    sample_lines_of_sight,
)
from .operator import (
    LineOfSightOperator,
    RZGrid,
    build_los_operator,
    evaluate_gas_density_cm3,
    gas_density_from_grid,
    hydrogen_atom_density_cm3,
    integrate_los_direct,
    load_operator,
    save_operator,
    step_halving_change,
    subpixel_directions,
)

__all__ = [
    "INTENSITY_UNIT",
    "HealpixCube",
    "LineOfSightGeometry",
    "LineOfSightOperator",
    "RZGrid",
    "build_los_operator",
    "count_steps",
    "default_shell_edges_kpc",
    "direction_cosines",
    "evaluate_gas_density_cm3",
    "exit_distance_kpc",
    "gas_density_from_grid",
    "healpix_cube_to_car",
    "healpix_directions",
    "hydrogen_atom_density_cm3",
    "integrate_los_direct",
    "integrate_over_energy",
    "load_operator",
    "read_healpix_cube",
    "sample_lines_of_sight",
    "save_operator",
    "step_halving_change",
    "subpixel_directions",
    "write_car_cube",
    "write_healpix_cube",
]
