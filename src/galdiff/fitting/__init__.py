"""Fits of the injection spectra (paper Eq. 3) and solar modulation to local cosmic-ray data.

The paper (docs/paper.md, Sec. 3.2, Tables II and III) fits, for a fixed propagation set-up (Table I),
the injection spectrum of each species, a multiply broken power law in rigidity with an
exponential cutoff (Eq. 3), together with a force-field modulation potential Phi
(Gleeson & Axford 1968, ApJ 154, 1011; docs/conventions.md#force-field-modulation) to Voyager 1, AMS-02 and
DAMPE data and to one air-shower experiment at the knee: IceTop (model DR-high) or KASCADE
(model DR-low). This module implements that fit for a linear propagation operator.

Propagation contract
--------------------
For each species the propagation stage supplies a Green's matrix ``G[i_out, j_in]`` on that
species' kinetic-energy-per-nucleon grid ``ek_GeV_per_n`` (strictly increasing, GeV/n) such that
the interstellar (unmodulated) intensity at the Sun is

    J_LIS(T_i) = sum_j G[i, j] Q(T_j)      [cm^-2 s^-1 sr^-1 (GeV/n)^-1]

with Q the injection spectrum per unit T_n [cm^-3 s^-1 (GeV/n)^-1] on the grid (the source
spatial shape, Eq. 2, being fixed). Any energy quadrature weight is part of G; this module only
forms the product ``G @ Q``, so the units of J are those of G times those of Q (cm sr^-1 if G
holds no energy weight). By default Q_j is the *cell average* of Eq. 3 over the log-cell of node j
(:func:`injection_cell_average`), not its value at the node: the two agree to O(h^2) (0.16 % for
an E^-2.7 spectrum on a 0.05-dex grid), but point sampling makes chi2 kinked whenever a break
crosses a node, which traps MIGRAD and spoils HESSE. ``sampling="node"`` restores point values
if the solver's source term must be read that way.

Injection model and normalisation
---------------------------------
Eq. 3 gives q_R(R) per unit rigidity; per unit T_n the injection is Q(T_n) = q_R(R(T_n)) dR/dT_n
with dR/dT_n = (A/|Z|)/beta (docs/conventions.md#kinematics-of-nuclei). The overall amplitude of q is not fitted
directly, because it is degenerate with the (arbitrary) scale of G and badly conditioned against
the indices. The fitted normalisation is instead

    norm_E2p7 = T_piv^2.7 * J_LIS(T_piv)        [GeV^1.7 cm^-2 s^-1 sr^-1 per nucleon^1.7]

the E^2.7-weighted *propagated, unmodulated* intensity at a pivot kinetic energy per nucleon
T_piv (default 100 GeV/n for nuclei, 20 GeV for leptons), a quantity of order 1 for protons
(about 1.1-1.2 at 100 GeV; docs/conventions.md#flux-density-and-emissivity) that is nearly uncorrelated with the
spectral shape when T_piv lies where the data are dense. The implied Eq. 3 prefactor q0 (value of
the first segment's continuation at R = 1 GV, in cm^-3 s^-1 GV^-1) is reported as a derived
quantity.

Leptons (Table III): primary electrons follow Eq. 3 with three breaks (nu0-..nu3-, R1-..R3-, Rc-)
and potential Phi-. An extra source of positrons (pulsar-like) follows Eq. 3 with one break (nu1+
below R1+, nu2+ above, cutoff Rc+) and potential Phi+, with its own amplitude (like every
normalisation, not printed in the paper). **Interpretation of c_e+** (not defined in the paper):
c_e+ multiplies the *secondary* positrons from p and He, the convention of the GALPROP-based
lepton fits of the authors' group (Yuan et al. 2013, arXiv:1304.1482; Lin, Yuan & Bi 2015, PRD 91,
063508), where it absorbs the uncertainty of the e+ production cross sections and of the
propagation; Table III's c_e+ = 1.00 then means "secondaries as computed". (The earlier reading,
c_e+ = q0(e+)/q0(e-) with both Eq. 3 spectra in raw GV form, gave Q_e+ = 0.9 Q_e- at 1 GV for the
Table III shapes, so that the extra positrons outnumbered the electrons below ~1.5 GeV and the fit
drove Phi+ to ~2 GV: not a sensible positron fraction.) Secondary e- (fixed) and e+ (times c_e+) are
modulated with Phi- and Phi+ respectively. Optionally (``LeptonModel(extra_pairs=True)``) the
extra source injects e+ e- pairs. See :class:`LeptonModel`.

Fit
---
iminuit MIGRAD then HESSE (MINOS optional). Breaks, cutoffs, the normalisation and c_e+ are
fitted as log10 of their values; break limits are non-overlapping intervals around the start
values, which keeps R1 < R2 < ... . A first MIGRAD pass holds the breaks fixed, then all free
parameters are released (the break directions are the multimodal ones). Parameters that end at a
limit are listed in :attr:`FitResult.at_limit`.

Likelihood
----------
chi2 = sum over data points of ((m - d) / sigma)^2 with sigma the quadrature sum of statistical
and systematic errors *on the side of the model* (upper error if m > d, lower error otherwise).
Upper limits contribute only when the model exceeds the limit, with sigma the upper error (or
the limit itself when no upper error is given). Optionally, each group of data sets (by default
one experiment) gets a free normalisation a_k multiplying the model, with a Gaussian prior
((a_k - 1)/s_k)^2 of width s_k (the experiment's scale uncertainty). The number of degrees of
freedom is (measurements + priors) - free parameters; upper limits are not counted as
measurements. Data are compared with the model at the data energies: J_LIS is modulated with the
force field (not for Voyager 1, which measures the LIS) and interpolated log-log from the grid.

Modules
-------
:mod:`~galdiff.fitting.data` (fit data sets and the selection), :mod:`~galdiff.fitting.likelihood`
(the chi-square), :mod:`~galdiff.fitting.models` (nucleus and lepton models),
:mod:`~galdiff.fitting.fit` (iminuit driver, result), :mod:`~galdiff.fitting.extra` (the EXTRA
normalisation fit of the spectra stage), :mod:`~galdiff.fitting.stage` (what the workflow calls).
Eq. 3 itself is :mod:`galdiff.spectra`. Everything public is importable from ``galdiff.fitting``.
"""

from ..spectra import cell_edges_GeV_per_n, injection_cell_average, injection_per_ek_per_n
from .data import (
    FIT_NAMES,
    FitDataset,
    fit_data_selection,
    gamma_ray_datasets,
    prepare_datasets,
    usable_errors,
)
from .fit import FitResult, fit
from .likelihood import ChiSquare, chi2_contributions
from .models import (
    DEFAULT_EXTRA_NORM,
    DEFAULT_EXTRA_PIVOT_GEV,
    DEFAULT_PIVOT_GEV_PER_N,
    EXTRA_NORM_PARAM,
    NORM_PARAM,
    NORM_WEIGHT_EXPONENT,
    LeptonModel,
    NucleusModel,
    lis_at_earth,
    spectra_at_earth,
)
from .stage import (
    INJECTION_MODES,
    as_printed_fixed,
    configured_fixed,
    fit_curves_table,
    fit_file_content,
    fit_lepton_injection,
    fit_model_injection,
    fit_nucleus_injection,
    fitted_injection,
    fixable_parameter_names,
    injection_mode,
    injection_species,
    knee_dataset,
    merge_fit_files,
    profile_nucleus_fit,
)

__all__ = [
    "NORM_PARAM",
    "EXTRA_NORM_PARAM",
    "injection_per_ek_per_n",
    "injection_cell_average",
    "cell_edges_GeV_per_n",
    "lis_at_earth",
    "FitDataset",
    "prepare_datasets",
    "gamma_ray_datasets",
    "usable_errors",
    "fit_data_selection",
    "FIT_NAMES",
    "chi2_contributions",
    "NucleusModel",
    "LeptonModel",
    "ChiSquare",
    "spectra_at_earth",
    "FitResult",
    "fit",
    "configured_fixed",
    "INJECTION_MODES",
    "injection_mode",
    "injection_species",
    "as_printed_fixed",
    "fit_nucleus_injection",
    "profile_nucleus_fit",
    "fit_lepton_injection",
    "fit_model_injection",
    "fitted_injection",
    "fit_file_content",
    "merge_fit_files",
    "DEFAULT_EXTRA_NORM",
    "DEFAULT_EXTRA_PIVOT_GEV",
    "DEFAULT_PIVOT_GEV_PER_N",
    "NORM_WEIGHT_EXPONENT",
    "fit_curves_table",
    "fixable_parameter_names",
    "knee_dataset",
]
