"""The data sets of the injection fits: tidy tables to fit points, which data each species' fit uses.

The selection (experiments, energy windows, added systematic errors, nuisance scales) is the
paper's (docs/paper.md#tables-ii-and-iii-injection); the likelihood is :mod:`galdiff.fitting.likelihood`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass
class FitDataset:
    """One data set reduced to what the likelihood needs (plain float64 arrays, T_n axis).

    Attributes
    ----------
    name : str
        Data-set name (e.g. ``ams02_proton``).
    experiment : str
    species : str
        ``proton``, ``helium``, ``electron``, ``positron`` or ``electron+positron``; the model
        summed over the matching components is compared with it.
    ek_GeV_per_n : numpy.ndarray
        Kinetic energy per nucleon (per particle for leptons) of each point, GeV/n.
    flux : numpy.ndarray
        Measured intensity or upper limit [cm^-2 s^-1 sr^-1 (GeV/n)^-1].
    err_lo, err_hi : numpy.ndarray
        Total (stat and sys in quadrature) lower and upper errors, same units, > 0.
    is_upper_limit : numpy.ndarray of bool
    modulated : bool
        Whether the force field applies (False for Voyager 1, beyond the heliopause).
    scale_group : str or None
        Nuisance-normalisation group; None for no nuisance normalisation.
    scale_uncertainty : float or None
        Fractional width of the Gaussian prior on the group's normalisation.
    citation : str
    n_dropped : int
        Points inside the energy range dropped for having no usable error.
    """

    name: str
    experiment: str
    species: str
    ek_GeV_per_n: np.ndarray
    flux: np.ndarray
    err_lo: np.ndarray
    err_hi: np.ndarray
    is_upper_limit: np.ndarray
    modulated: bool = True
    scale_group: str | None = None
    scale_uncertainty: float | None = None
    citation: str = ""
    n_dropped: int = 0

    def __post_init__(self):
        self.ek_GeV_per_n = np.asarray(self.ek_GeV_per_n, dtype=float)
        n = self.ek_GeV_per_n.size
        self.flux = np.asarray(self.flux, dtype=float)
        self.err_lo = np.broadcast_to(np.asarray(self.err_lo, dtype=float), (n,)).copy()
        self.err_hi = np.broadcast_to(np.asarray(self.err_hi, dtype=float), (n,)).copy()
        self.is_upper_limit = np.broadcast_to(np.asarray(self.is_upper_limit, dtype=bool), (n,)).copy()
        if self.flux.shape != (n,):
            raise ValueError(f"data set {self.name!r}: flux and ek_GeV_per_n differ in shape")
        if np.any(self.ek_GeV_per_n <= 0):
            raise ValueError(f"data set {self.name!r}: energies must be > 0")
        if np.any(self.err_lo <= 0) or np.any(self.err_hi <= 0):
            raise ValueError(f"data set {self.name!r}: total errors must be > 0 (drop or fix such points)")

    @property
    def n_measurements(self) -> int:
        """Points that are measurements (not upper limits)."""
        return int(np.count_nonzero(~self.is_upper_limit))


#: fractional systematic error added to the Voyager 1 proton points (see :func:`default_data_selection`)
VOYAGER_PROTON_SYS_FRACTION = 0.05
#: width of the prior on the DAMPE e+ + e- scale relative to AMS-02 (see :func:`default_data_selection`)
DAMPE_LEPTON_SCALE_UNCERTAINTY = 0.06
#: lowest energy of the separate AMS-02 e- and e+ spectra in the lepton fit, GeV
SEPARATE_LEPTONS_EK_MIN_GEV = 10.0


def default_data_selection(knee_dataset: str, separate_leptons: bool = False) -> dict:
    """Data used by the paper's fits (docs/paper.md, Sec. 2.1 and 'The model chain', item 1), with our error model.

    Both models use Voyager 1, AMS-02 and DAMPE for p and He; DR-high adds IceTop (Sibyll 2.1) and
    DR-low KASCADE (QGSJET-II-02 for p, QGSJET 01 for He) at the knee. Leptons use the AMS-02 and
    DAMPE e+ + e- spectra. No energy cuts on these. Three documented choices of ours:

    * ``voyager_proton`` gets a 5 % systematic error in quadrature (``sys_fraction``): its source
      (Stone et al. 2013 via CRDB) lists statistical errors only (1.5 % at 3.7-7 MeV), Cummings et
      al. 2016 give 5.0 % systematics for the same CRS telescopes (our He table), and the adjacent
      points at 6.95 and 8.96 MeV, from different telescopes, differ by 29 %, far beyond their
      statistical errors. Without it Voyager alone gives chi2 ~ 500 for 19 points at any Eq. 3 shape.
    * ``dampe_electron_positron`` gets a free scale with a 6 % Gaussian prior (``scale_uncertainty``):
      DAMPE lies ~9-10 % above AMS-02 from 40 GeV to 1 TeV; for an E^-3.1 spectrum that is a
      relative energy scale of ~3 %, and the energy-scale uncertainties of the two calorimeters
      (~2 % each) are not in the tabulated errors. Without it DAMPE gives chi2 ~ 250 for 38 points.
    * with ``separate_leptons`` the AMS-02 e- and e+ spectra enter only above 10 GeV: below,
      charge-sign dependent solar modulation (2011-2018 spans the 2012-2014 polarity reversal) is
      not a force field, and a force field cannot follow the e+ spectrum: fitted alone with every
      positron parameter free, AMS-02 e+ gives chi2 639/67 above 0.5 GeV, 363/60 above 2 GeV, 30/52
      above 5 GeV and 27/43 above 10 GeV (reduced grid, DR-high). The paper fitted only the sum.

    Parameters
    ----------
    knee_dataset : {"icetop", "kascade"}
        The config's ``models.<model>.knee_dataset``.
    separate_leptons : bool
        Also fit the AMS-02 e- and e+ spectra (above :data:`SEPARATE_LEPTONS_EK_MIN_GEV`). The
        e+ + e- sum alone leaves c_e+ and the extra-positron parameters unconstrained (they only
        move ~8 % of the sum); the paper lists only the sum, hence the default False.

    Returns
    -------
    dict
        ``{fit_name: {dataset_name: options}}`` with fit names ``proton``, ``helium``,
        ``leptons``; options as documented in :func:`prepare_datasets`.
    """
    if knee_dataset not in ("icetop", "kascade"):
        raise ValueError(f"knee_dataset must be 'icetop' or 'kascade', got {knee_dataset!r}")
    selection = {}
    for species in ("proton", "helium"):
        selection[species] = {f"{prefix}_{species}": {} for prefix in ("voyager", "ams02", "dampe", knee_dataset)}
    selection["proton"]["voyager_proton"] = {"sys_fraction": VOYAGER_PROTON_SYS_FRACTION}
    selection["leptons"] = {"ams02_electron_positron": {},
                            "dampe_electron_positron": {"scale_uncertainty": DAMPE_LEPTON_SCALE_UNCERTAINTY}}
    if separate_leptons:
        selection["leptons"].update({name: {"ek_min_GeV_per_n": SEPARATE_LEPTONS_EK_MIN_GEV}
                                     for name in ("ams02_electron", "ams02_positron")})
    return selection


def prepare_datasets(tables: Mapping, selection: Mapping) -> list[FitDataset]:
    """Turn tidy cosmic-ray tables into :class:`FitDataset` objects, applying a selection.

    Parameters
    ----------
    tables : mapping of str to astropy.table.Table
        Tidy tables (:func:`galdiff.data.datasets.build_dataset` / ``read_dataset``) by data-set
        name; converted to T_n with :func:`galdiff.data.datasets.flux_vs_ek_per_n`.
    selection : mapping of str to mapping
        ``{dataset_name: options}`` for one fit, options (all optional):
        ``ek_min_GeV_per_n``, ``ek_max_GeV_per_n`` (inclusive range of T_n kept),
        ``modulated`` (default: False for names starting with ``voyager``, else True),
        ``sys_fraction`` (a fractional systematic error added in quadrature to both sides, for
        sources without systematic errors),
        ``scale_uncertainty`` (fractional width of a nuisance-normalisation prior; absent or
        None: no nuisance), ``scale_group`` (default: the table's experiment).

    Returns
    -------
    list of FitDataset
        Points with zero total error on both sides are dropped (counted in ``n_dropped``, e.g. the
        IceTop helium row at 1.995e8 GeV); a point with one zero side uses the other side.
    """
    from ..data.datasets import flux_vs_ek_per_n  # local import: the data layer pulls in astropy

    out = []
    for name, options in selection.items():
        options = dict(options or {})
        unknown = set(options) - {"ek_min_GeV_per_n", "ek_max_GeV_per_n", "modulated", "scale_uncertainty",
                                  "scale_group", "sys_fraction"}
        if unknown:
            raise KeyError(f"data set {name!r}: unknown selection option(s) {sorted(unknown)}")
        if name not in tables:
            raise KeyError(f"data set {name!r} selected but no table given; have {sorted(tables)}")
        table = tables[name]
        spectrum = flux_vs_ek_per_n(table)
        ek = spectrum.ek_GeV_per_n
        keep = np.isfinite(ek) & np.isfinite(spectrum.flux_per_GeV_per_n)
        if options.get("ek_min_GeV_per_n") is not None:
            keep &= ek >= float(options["ek_min_GeV_per_n"])
        if options.get("ek_max_GeV_per_n") is not None:
            keep &= ek <= float(options["ek_max_GeV_per_n"])
        err_lo = np.hypot(np.nan_to_num(spectrum.stat_lo), np.nan_to_num(spectrum.sys_lo))
        err_hi = np.hypot(np.nan_to_num(spectrum.stat_hi), np.nan_to_num(spectrum.sys_hi))
        upper = spectrum.is_upper_limit
        flux = spectrum.flux_per_GeV_per_n
        sys_fraction = float(options.get("sys_fraction") or 0.0)
        if sys_fraction < 0:
            raise ValueError(f"data set {name!r}: sys_fraction must be >= 0, got {sys_fraction}")
        if sys_fraction > 0:
            extra = sys_fraction * np.abs(flux)
            err_lo, err_hi = np.where(upper, err_lo, np.hypot(err_lo, extra)), np.where(upper, err_hi, np.hypot(err_hi, extra))
        # an upper limit's only relevant error is the upper one; without one, the limit itself
        err_hi = np.where(upper & (err_hi <= 0), flux, err_hi)
        err_lo = np.where(upper, err_hi, err_lo)
        err_lo, err_hi = np.where(err_lo > 0, err_lo, err_hi), np.where(err_hi > 0, err_hi, err_lo)
        usable = (err_lo > 0) & (err_hi > 0)
        n_dropped = int(np.count_nonzero(keep & ~usable))
        keep &= usable
        if not np.any(keep):
            raise ValueError(f"data set {name!r}: no points left after the selection {options}")
        scale_uncertainty = options.get("scale_uncertainty")
        out.append(FitDataset(
            name=name,
            experiment=str(table.meta.get("experiment", name)),
            species=str(table.meta.get("species")),
            ek_GeV_per_n=ek[keep],
            flux=flux[keep],
            err_lo=err_lo[keep],
            err_hi=err_hi[keep],
            is_upper_limit=upper[keep],
            modulated=bool(options.get("modulated", not name.startswith("voyager"))),
            scale_group=(options.get("scale_group") or str(table.meta.get("experiment", name)))
            if scale_uncertainty is not None else None,
            scale_uncertainty=None if scale_uncertainty is None else float(scale_uncertainty),
            citation=str(table.meta.get("citation", "")),
            n_dropped=n_dropped,
        ))
    return out
