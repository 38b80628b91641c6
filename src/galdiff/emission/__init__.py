"""Emissivity tables on the (r, z) propagation grid: pi0, neutrinos, bremsstrahlung, IC, extras, absorption.

This is the emission stage of the model chain (docs/architecture.md#stages-and-files, ``cr + gas + ISRF --emission-->
results/emission/{model}/emissivity.h5``). Every step is linear in the cosmic-ray intensities
(docs/architecture.md#the-chain-is-linear): each channel is a matrix built **once** on the energy
grids and applied to all cells as one matrix product (BLAS); no Python loop over cells.

Conventions (docs/conventions.md#flux-density-and-emissivity, docs/emission.md#line-of-sight)
----------------------------------------------
* All emissivities are **per steradian** (photons or neutrinos GeV^-1 s^-1 sr^-1 ...), so the
  line-of-sight intensity is I = int ds [n_H q + j] with **no** 1/(4 pi).
* ``per_H`` components (pi0, hadronic neutrinos, bremsstrahlung) are per target hydrogen atom,
  q in GeV^-1 s^-1 sr^-1 H-atom^-1, with the ISM He/H folded in; the sky-map stage multiplies by
  n_H = n_HI + 2 n_H2 + n_HII (atoms cm^-3) along the line of sight.
* ``per_volume`` components (inverse Compton, EXTRA1/EXTRA2 and their neutrinos) are volume
  emissivities j in GeV^-1 cm^-3 s^-1 sr^-1.
* Input intensities J follow the propagation stage: arrays shaped (n_E, n_r, n_z) in
  GeV^-1 cm^-2 s^-1 sr^-1, per GeV/n of kinetic energy per nucleon and per nucleus for p and He,
  per GeV of kinetic energy for e- and e+ (secondaries included).
* Output arrays are shaped **(n_r, n_z, n_E)**, the layout :class:`galdiff.skymaps.RZGrid` and
  ``LineOfSightOperator.intensity`` take (cell index i_r n_z + i_z, C order).
* Neutrino components are per flavour, nu + anti-nu, **after** phase-averaged oscillations over
  Galactic baselines (docs/emission.md#neutrino-oscillations), plus their all-flavour sum.
* The pair-absorption coefficient kappa(E; r, z) = 1/lambda in kpc^-1 (isotropic target field,
  docs/emission.md#pair-absorption) is tabulated on the same grid for the sky-map stage.

Approximations (documented decisions)
-------------------------------------
* Bremsstrahlung per H atom uses the 2D gas of the cell (GALPROP analytic models by default):
  q_brems = (n_neutral q_neutral + n_HII q_ionised) / n_H, with n_neutral = n_HI + 2 n_H2 and
  n_H = n_neutral + n_HII. Multiplying it by the line-of-sight n_H is exact when the ionised
  fraction along the line of sight equals the cell's 2D one. Because q_ionised/q_neutral is
  0.8-1.6 above 100 MeV and n_HII/n_H is a few % in the disc, the error is a few % at most;
  the neutral and ionised parts are also stored separately (per neutral H atom, per H+ ion) for
  a sky-map stage with separate gas operators.
* Inverse Compton uses the isotropic Klein-Nishina kernel (docs/emission.md#inverse-compton, #anisotropic-inverse-compton:
  adequate for this paper) with one photon spectrum per cell (ISRF file interpolated bilinearly
  in (R, |z|), analytic CMB); the contraction j[g, c] = sum_{e, eps} T[g, e, eps] J[e, c] n[eps, c]
  is done exactly, in chunks of cells, as one GEMM per chunk (bounded memory, no rank reduction;
  ~3-7 s for 81 x 127 cells, 97 x 150 x 231 on 2 shared cores). ``ic_method='lowrank'`` instead
  writes the photon field of all cells as a truncated sum of spectral shapes with cell-dependent
  amplitudes (rank 30 for a 1e-4 tolerance; max deviation from exact 1e-4, ~0.9 s);
  benchmarks/bench_emission.py measures both.
* EXTRA components: gamma-ray ECPL times a pulsar spatial template (docs/galaxy_inputs.md#pulsar-distributions),
  normalised at the Sun (see :class:`ExtraComponent`). Hadronic origin: neutrinos from the parent
  proton ECPL whose AAfrag pi0 spectrum reproduces the gamma ECPL (docs/emission.md#neutrinos-of-the-extra-components,
  "more exact alternative"), see :func:`fit_parent_proton_ecpl`.

Modules (docs/architecture.md#stages-and-files): :mod:`.axes` (energy axes, the cosmic-ray
intensity of a density), :mod:`.extras` (EXTRA1/EXTRA2 and their neutrinos), :mod:`.grid` (every
channel on the (r, z) grid, one model from its configuration), :mod:`.files` (the emissivity
file); the target gas on the grid is that of the configuration, :class:`galdiff.galaxy.gas.GasModel`
(``gas_on_grid_cm3`` names its models one by one). Everything public is
importable from ``galdiff.emission``.
"""

from __future__ import annotations

from galdiff.conventions import FLAVOURS
from galdiff.galaxy.gas import gas_on_grid_cm3

from .axes import DEFAULT_GAMMA_ENERGY_GEV, DEFAULT_TARGET_ENERGY_EV, SPECIES, species_intensity_from_density
from .extras import (
    EXTRA1,
    EXTRA2,
    ExtraComponent,
    ParentProtonFit,
    extra_components_from_config,
    extra_gamma_emissivity,
    extra_neutrino_emissivity,
    fit_parent_proton_ecpl,
    pulsar_template,
)
from .files import FILE_FORMAT_VERSION, read_emissivity_h5, write_emissivity_h5
from .grid import EmissionGrid, EmissivityResult, model_emissivity

__all__ = [
    "DEFAULT_GAMMA_ENERGY_GEV",
    "DEFAULT_TARGET_ENERGY_EV",
    "SPECIES",
    "FLAVOURS",
    "ExtraComponent",
    "EXTRA1",
    "EXTRA2",
    "ParentProtonFit",
    "fit_parent_proton_ecpl",
    "pulsar_template",
    "extra_gamma_emissivity",
    "extra_neutrino_emissivity",
    "gas_on_grid_cm3",
    "species_intensity_from_density",
    "EmissivityResult",
    "EmissionGrid",
    "write_emissivity_h5",
    "read_emissivity_h5",
    "extra_components_from_config",
    "model_emissivity",
    "FILE_FORMAT_VERSION",
]
