"""Tidy data sets: named measurements built from raw files into ECSV tables with units.

``DATASETS`` maps a data-set name to a :class:`DatasetSpec` (which raw files, which reader, what to
cite). :func:`build_dataset` reads the raw files from ``raw_dir/<folder>/<name>`` (transcribed
files from ``raw_dir/transcribed/<name>``), :func:`write_dataset` writes the table atomically as ECSV.

Table contract
--------------
Cosmic rays (``kind == "cosmic_ray"``): ``energy, energy_lo, energy_hi`` on the native axis named by
``meta["energy_axis"]`` (GV for rigidity, GeV per particle, or GeV/nucleon), ``flux`` per unit of that
axis and per cm^2 s sr, ``flux_central``, ``stat_lo, stat_hi, sys_lo, sys_hi`` (absolute, positive),
``is_upper_limit`` (rule in :mod:`galdiff.data.readers`). :func:`flux_vs_ek_per_n` converts any of
them to kinetic energy per nucleon.

Gamma rays / neutrinos: ``energy, energy_lo, energy_hi`` [GeV], ``flux`` [GeV^-1 cm^-2 s^-1 sr^-1],
``flux_lo_err, flux_hi_err`` (stat and sys in quadrature), ``flux_stat_*``, ``flux_sys_*``
(NaN = not given), the same with ``e2`` prefixed [GeV cm^-2 s^-1 sr^-1], ``is_upper_limit``; meta
``messenger`` and ``region`` (l_min_deg, l_max_deg, b_max_deg, mask). ``icecube_cascades_6yr``:
``energy, e2flux_best, e2flux_lo, e2flux_hi`` (per flavour, per sr). ``icecube_gp2023_template_fits``:
one row per template. Catalogs: one row per source (component), positions in deg.

Every table's meta has ``dataset, experiment, citation, source_files, source_sha256, notes`` and
``galdiff_version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
from astropy.table import Table

from .. import units as kin
from ..conventions import INTENSITY_UNIT_STRING
from ..io import read_ecsv, write_ecsv
from ..provenance import provenance_meta, sha256_of_file
from . import readers
from .readers import ENERGY_AXES

AMS02_PHYSREP2021 = "M. Aguilar et al. (AMS Coll.), Phys. Rep. 894 (2021) 1, doi:10.1016/j.physrep.2020.09.003"
ICETOP2019 = "M. G. Aartsen et al. (IceCube Coll.), PRD 100 (2019) 082002, doi:10.1103/PhysRevD.100.082002"
LHAASO2023 = "Z. Cao et al. (LHAASO Coll.), PRL 131 (2023) 151001, arXiv:2305.05372"
#: the Fermi-LAT table of the LHAASO inner region comes from a school's hands-on repository that names no paper
FERMI_LHAASO_REGION_CITATION = ("probably R. Zhang, X. Huang, Z.-H. Xu, S. Zhao, Q. Yuan (2023), arXiv:2305.06948 "
                                "(not verified); file from tospines/hands-on_DRAGON_School")
FERMI_LHAASO_REGION_CAVEAT = ("Provenance not verified: the source repository names no paper (likely Zhang et al. "
                              "2023) and does not say whether the LHAASO mask was applied.")
TIBET2021 = "M. Amenomori et al. (Tibet ASgamma Coll.), PRL 126 (2021) 141101, arXiv:2104.05181"
CASCADES2020 = "M. G. Aartsen et al. (IceCube Coll.), PRL 125 (2020) 121104, arXiv:2001.09520"
ICECUBE_GP2023 = "IceCube Collaboration, Science 380 (2023) 1338, arXiv:2307.04427"
CRDB = "via CRDB: D. Maurin, F. Melot, R. Taillet, A&A 569 (2014) A32"

# species name in meta -> kinematics (e+ + e- share the electron mass; A = 1, |Z| = 1)
_KINEMATIC_SPECIES = {
    "proton": kin.PROTON,
    "helium": kin.HELIUM,
    "electron": kin.ELECTRON,
    "positron": kin.POSITRON,
    "electron+positron": kin.ELECTRON,
}


@dataclass(frozen=True, eq=False)
class DatasetSpec:
    """How to build one tidy data set.

    Attributes
    ----------
    name : str
    kind : str
        ``"cosmic_ray"``, ``"gamma"``, ``"neutrino"`` or ``"catalog"``.
    reader : callable
        ``reader(paths: list[Path]) -> Table``, called with the raw files in ``raw_files`` order.
    raw_files : tuple of str
        Paths relative to the raw-data folder: ``<folder>/<name>`` or ``transcribed/<name>``.
    experiment, citation : str
    species : str or None
        Cosmic-ray species (``proton``, ``helium``, ``electron``, ``positron``, ``electron+positron``).
    messenger : str or None
        ``"gamma"`` or ``"neutrino"`` for photon/neutrino sets.
    energy_axis : str or None
        Expected native axis of a cosmic-ray set (checked against what the reader found).
    notes : str
        Choices and quirks a user must know.
    extra_meta : dict
        Further meta (sky region, flavour convention, ...).
    """

    name: str
    kind: str
    reader: Callable[[list[Path]], Table]
    raw_files: tuple[str, ...]
    experiment: str
    citation: str
    species: str | None = None
    messenger: str | None = None
    energy_axis: str | None = None
    notes: str = ""
    extra_meta: dict = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------
# builders that need more than one reader call
# ----------------------------------------------------------------------------------------------


def _first(reader):
    return lambda paths: reader(paths[0])


def _lepton_energy(paths: list[Path]) -> Table:
    """AMS-02 e± CRDB files are labelled R [GV]; the measurement is in energy E [GeV] (R = E for e±)."""
    table = readers.read_crdb_7col(paths[0])
    if table.meta["energy_axis"] != "rigidity":
        raise ValueError(f"{paths[0]}: expected a CRDB 'R' axis, found {table.meta['energy_axis']}")
    energy_unit, flux_unit = ENERGY_AXES["total_energy_per_particle"]
    for name in ("energy", "energy_lo", "energy_hi"):
        table[name] = table[name].quantity.value * energy_unit
    for name in ("flux", "flux_central", "stat_lo", "stat_hi", "sys_lo", "sys_hi"):
        table[name] = table[name].quantity.value * flux_unit
    table.meta["energy_axis"] = "total_energy_per_particle"
    return table


def _dampe_proton(paths: list[Path]) -> Table:
    """KISS values (representative energy, stat/sys split) + bin edges from the DRAGON2 table (format G)."""
    table = readers.read_kiss(paths[0])
    edges = readers.read_dragon2_dampe(paths[1])
    kiss_energy = table["energy"].quantity.to_value("GeV")
    dragon_energy = edges["energy"].quantity.to_value("GeV")
    if len(kiss_energy) != len(dragon_energy) or not np.allclose(kiss_energy, dragon_energy, rtol=5e-3):
        raise ValueError(f"{paths[1]}: DAMPE bin energies do not match those of {paths[0]}; cannot take bin edges")
    table["energy_lo"] = edges["energy_lo"].quantity.to(table["energy"].unit)
    table["energy_hi"] = edges["energy_hi"].quantity.to(table["energy"].unit)
    return table


def _icetop(paths: list[Path]) -> Table:
    """KISS IceTop-IceCube table + bin edges: 0.1-dex bins below 1e8 GeV, 0.2-dex above (SOURCES.md)."""
    table = readers.read_kiss(paths[0])
    energy = table["energy"].quantity.to_value("GeV")
    lo, hi = readers.log_bin_edges(energy, np.where(np.log10(energy) < 8.0, 0.1, 0.2))
    table["energy_lo"] = lo * table["energy"].unit
    table["energy_hi"] = hi * table["energy"].unit
    return table


def _cascades(paths: list[Path], n_energies: int = 41) -> Table:
    """Best-fit line and 1-sigma envelope band on a log grid over the fit range (16 TeV - 2.6 PeV)."""
    contour = readers.read_cascade_contour(paths[0])
    bestfit = readers.read_cascade_bestfit(paths[1])
    energy = np.geomspace(bestfit["E_min_GeV"], bestfit["E_max_GeV"], n_energies)
    table = readers.cascade_band(bestfit, contour, energy)
    table.meta.update({"phi0_per_flavour_at_100TeV": bestfit["phi0"], "spectral_index": bestfit["gamma"],
                       "phi0_unit": INTENSITY_UNIT_STRING})
    return table


# ----------------------------------------------------------------------------------------------
# the data sets
# ----------------------------------------------------------------------------------------------


def _cr(name, reader, files, experiment, citation, species, axis, notes="", **extra) -> DatasetSpec:
    return DatasetSpec(name=name, kind="cosmic_ray", reader=reader, raw_files=tuple(files), experiment=experiment,
                       citation=citation, species=species, energy_axis=axis, notes=notes, extra_meta=extra)


def _region(l_min, l_max, b_max, mask):
    return {"l_min_deg": float(l_min), "l_max_deg": float(l_max), "b_max_deg": float(b_max), "mask": mask}


_LHAASO_MASK = ("known sources masked by the LHAASO collaboration (1LHAASO-based; exact recipe not published "
                "in a machine-readable form); flux averaged over the unmasked part")
_TIBET_MASK = "Tibet ASgamma's own exclusion of known TeV sources (not the LHAASO mask)"

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        _cr("ams02_proton", _first(readers.read_crdb_7col), ["cosmic_rays/ams02_proton_rigidity_physrep2021_crdb.txt"],
            "AMS-02", f"{AMS02_PHYSREP2021}; {CRDB}", "proton", "rigidity",
            "2011/05-2018/05. energy = geometric centre of the rigidity bin."),
        _cr("ams02_helium", _first(readers.read_kiss), ["cosmic_rays/ams02_helium_rigidity_physrep2021_kiss.txt"],
            "AMS-02", f"{AMS02_PHYSREP2021}; {CRDB} (KISS table)", "helium", "rigidity",
            "KISS table: energy = Lafferty-Wyatt mean rigidity for R^-2.7 within the CRDB bin; bin edges not stored "
            "(energy_lo/hi NaN)."),
        _cr("ams02_electron_positron", _lepton_energy, ["cosmic_rays/ams02_electron_plus_positron_physrep2021_crdb.txt"],
            "AMS-02", f"{AMS02_PHYSREP2021}; {CRDB}", "electron+positron", "total_energy_per_particle",
            "CRDB labels the axis R [GV]; for e+- it is the energy in GeV (AMS measures energy), stored as total "
            "energy per particle. energy = geometric bin centre."),
        _cr("ams02_electron", _lepton_energy, ["cosmic_rays/ams02_electron_physrep2021_crdb.txt"],
            "AMS-02", f"{AMS02_PHYSREP2021}; {CRDB}", "electron", "total_energy_per_particle",
            "CRDB axis R [GV] = energy [GeV] for e-; stored as total energy per particle."),
        _cr("ams02_positron", _lepton_energy, ["cosmic_rays/ams02_positron_physrep2021_crdb.txt"],
            "AMS-02", f"{AMS02_PHYSREP2021}; {CRDB}", "positron", "total_energy_per_particle",
            "CRDB axis R [GV] = energy [GeV] for e+; stored as total energy per particle."),
        _cr("dampe_proton", _dampe_proton, ["cosmic_rays/dampe_proton_ekin_2019_kiss.txt",
                                            "cosmic_rays/dampe_proton_ekin_2019_dragon2.txt"],
            "DAMPE", f"Q. An et al. (DAMPE Coll.), Sci. Adv. 5 (2019) eaax3793, doi:10.1126/sciadv.aax3793; {CRDB}",
            "proton", "kinetic_energy_per_particle",
            "Values and stat/sys from the KISS table (energy = Lafferty-Wyatt mean for E^-2.7); bin edges from the "
            "DRAGON2 table (format G, checked to share the bin energies). Statistical errors are 0 in the lowest "
            "bins (rounded to zero upstream): kept as 0."),
        _cr("dampe_helium", _first(readers.read_kiss), ["cosmic_rays/dampe_helium_ekin_2021_kiss.txt"],
            "DAMPE", "F. Alemanno et al. (DAMPE Coll.), PRL 126 (2021) 201102, doi:10.1103/PhysRevLett.126.201102; "
            + CRDB, "helium", "kinetic_energy_per_particle",
            "Kinetic energy PER PARTICLE (whole nucleus), not per nucleon. energy = Lafferty-Wyatt mean for E^-2.7; "
            "no bin edges."),
        _cr("dampe_electron_positron", _first(readers.read_crdb_7col), ["cosmic_rays/dampe_electron_plus_positron_2017_crdb.txt"],
            "DAMPE", f"G. Ambrosi et al. (DAMPE Coll.), Nature 552 (2017) 63, doi:10.1038/nature24475; {CRDB}",
            "electron+positron", "total_energy_per_particle", "energy = geometric bin centre."),
        _cr("icetop_proton", _icetop, ["cosmic_rays/icetop_icecube_2019_sibyll21_proton_etot_kiss.txt"],
            "IceTop+IceCube (Sibyll 2.1)", f"{ICETOP2019}; {CRDB}", "proton", "total_energy_per_particle",
            "3-yr coincident analysis, Sibyll 2.1. energy = geometric bin centre; edges from the documented bins "
            "(0.1 dex below 1e8 GeV, 0.2 dex above). Rows whose lower error equals the value are upper limits."),
        _cr("icetop_helium", _icetop, ["cosmic_rays/icetop_icecube_2019_sibyll21_helium_etot_kiss.txt"],
            "IceTop+IceCube (Sibyll 2.1)", f"{ICETOP2019}; {CRDB}", "helium", "total_energy_per_particle",
            "As icetop_proton. The row at 1.995e8 GeV has all errors 0 in the source (kept, not an upper limit by "
            "the rule; give it no weight in fits). Rows whose lower error equals the value are upper limits."),
        _cr("kascade_proton", _first(readers.read_kcdc), ["cosmic_rays/kascade_2011_qgsjetII02_proton_etot_kcdc.txt"],
            "KASCADE (QGSJET-II-02)", "KASCADE, QGSJET-II-02 unfolding: M. Finger, PhD thesis, KIT (2011), "
            "distributed by KCDC (kcdc.iap.kit.edu)", "proton", "total_energy_per_particle",
            "KCDC errors are statistical (stat_*), no systematics (sys_* = 0). Above ~20 PeV errors exceed the value; "
            "kept as measurements. Bin edges: 0.1-dex grid."),
        _cr("kascade_helium", _first(readers.read_kcdc), ["cosmic_rays/kascade_2005_qgsjet01_helium_etot_kcdc.txt"],
            "KASCADE (QGSJET 01)", "T. Antoni et al. (KASCADE Coll.), Astropart. Phys. 24 (2005) 1, "
            "doi:10.1016/j.astropartphys.2005.04.001; via KCDC", "helium", "total_energy_per_particle",
            "CHOICE: no KASCADE helium spectrum unfolded with QGSJET-II-02 exists (only H and all-particle), so the "
            "2005 QGSJET 01 helium unfolding is used while kascade_proton is the 2011 QGSJET-II-02 unfolding; the two "
            "hadronic models differ. The last two rows (flux 0 +- err) are upper limits (flux = error). KCDC errors "
            "are statistical; sys_* = 0."),
        _cr("voyager_proton", _first(readers.read_crdb_10col), ["cosmic_rays/voyager1_proton_2012_stone2013_crdb.txt"],
            "Voyager 1", f"E. C. Stone et al., Science 341 (2013) 150, doi:10.1126/science.1236408; {CRDB}",
            "proton", "kinetic_energy_per_nucleon",
            "2012/10-2012/12, beyond the heliopause (Stone et al. 2013, not Cummings et al. 2016). Point energies "
            "only (no bin edges); systematic errors are 0 in the source."),
        _cr("voyager_helium", _first(readers.read_cummings_table), ["cosmic_rays/voyager1_helium_cummings2016_table8.txt"],
            "Voyager 1", "A. C. Cummings et al., ApJ 831 (2016) 18, doi:10.3847/0004-637X/831/1/18, Table 8",
            "helium", "kinetic_energy_per_nucleon",
            "2012/342-2015/181. Table in MeV/n and (m^2 s sr MeV/n)^-1, converted to GeV/n and (cm^2 s sr GeV/n)^-1. "
            "energy = E_plot; edges = E_min, E_max."),
        DatasetSpec("lhaaso_km2a_inner", "gamma", _first(readers.read_lhaaso_km2a_table),
                    ("gamma/LHAASO_KM2A_2023_TableS2_inner.txt",), "LHAASO-KM2A", f"{LHAASO2023}, Table S2",
                    messenger="gamma",
                    notes="Diffuse gamma rays, inner Galaxy; transcription of Table S2. Bin edges from log10(E_rec/TeV); "
                          "symmetric systematic error.",
                    extra_meta={"region": _region(15, 125, 5, _LHAASO_MASK)}),
        DatasetSpec("lhaaso_km2a_outer", "gamma", _first(readers.read_lhaaso_km2a_table),
                    ("gamma/LHAASO_KM2A_2023_TableS3_outer.txt",), "LHAASO-KM2A", f"{LHAASO2023}, Table S3",
                    messenger="gamma", notes="Diffuse gamma rays, outer Galaxy; transcription of Table S3.",
                    extra_meta={"region": _region(125, 235, 5, _LHAASO_MASK)}),
        DatasetSpec("tibet_asg_region_a", "gamma", _first(readers.read_dnncascade_tibet),
                    ("gamma/raw_icecube_dnncascade_plota_TibetData.csv",), "Tibet ASgamma", TIBET2021,
                    messenger="gamma",
                    notes="DIGITISED by IceCube (DNNCascade repo) from the PRL figure, as E^2.7 dN/dE [GeV^1.7 ...]; "
                          "dN/dE reconstructed at the marker energy; errors statistical only (flux_sys_* NaN); "
                          "edges = digitised x-error-bar ends (nominal 100/158/398/1000 TeV).",
                    extra_meta={"region": _region(25, 100, 5, _TIBET_MASK)}),
        DatasetSpec("tibet_asg_region_b", "gamma", _first(readers.read_dnncascade_tibet),
                    ("gamma/raw_icecube_dnncascade_plotb_TibetData.csv",), "Tibet ASgamma", TIBET2021,
                    messenger="gamma", notes="As tibet_asg_region_a, region B.",
                    extra_meta={"region": _region(50, 200, 5, _TIBET_MASK)}),
        DatasetSpec("fermi_lat_lhaaso_inner", "gamma", _first(readers.read_fermi_lhaaso_region),
                    ("gamma/fermi_data_lhaaso_region.txt",), "Fermi-LAT",
                    FERMI_LHAASO_REGION_CITATION, messenger="gamma",
                    notes=f"{FERMI_LHAASO_REGION_CAVEAT} E^2.7-weighted in TeV units in the file; symmetric error "
                          "= upper bar end - value (total; stat/sys split unknown, NaN). No bin edges.",
                    extra_meta={"region": _region(15, 125, 5, "not stated by the source (the LHAASO mask is "
                                                             "applied in Zhang et al. 2023, the likely origin)"),
                                "caveat": FERMI_LHAASO_REGION_CAVEAT,
                                "plot_label": "Fermi-LAT (source unverified, likely Zhang+23; mask not stated)"}),
        DatasetSpec("fermi_lat_ackermann2012_inner_galaxy", "gamma", _first(readers.read_fermi_fig17),
                    ("gamma/Ackermann2012_diffuse_Fig17.txt",), "Fermi-LAT",
                    "M. Ackermann et al. (Fermi-LAT Coll.), ApJ 750 (2012) 3, Fig. 17 (digitised by a third party)",
                    messenger="gamma",
                    notes="Total intensity of the inner Galaxy |l|<80, |b|<8 (NOT a LHAASO region; context only). "
                          "Digitised; MeV -> GeV. The band is the figure's total uncertainty (flux_lo/hi_err); "
                          "stat/sys split unknown (NaN). File header's 'MeV^-1' unit is a typo for MeV.",
                    extra_meta={"region": _region(-80, 80, 8, "none (total intensity, sources included)")}),
        DatasetSpec("icecube_cascades_6yr", "neutrino", _cascades,
                    ("neutrino/icecube_cascades6yr_spl_contour_1sigma.txt",
                     "transcribed/icecube_cascades6yr_spl_bestfit.csv"), "IceCube (cascades, 6 yr)", CASCADES2020,
                    messenger="neutrino",
                    notes="Single power law dN/dE = phi0 (E/100 TeV)^-gamma, best fit phi0 = 1.66e-18 GeV^-1 cm^-2 s^-1 "
                          "sr^-1, gamma = 2.53; band = envelope of the power laws on the 1-sigma (phi0, gamma) contour. "
                          "41 log-spaced energies over the fit range 16 TeV - 2.6 PeV.",
                    extra_meta={"per_flavour": True, "flavour_convention": "per flavour, nu + nubar; x3 for all flavours",
                                "per_sr": True, "region": "isotropic (all sky, per sr)"}),
        DatasetSpec("icecube_gp2023_template_fits", "neutrino", _first(readers.read_gp_template_fits),
                    ("transcribed/icecube_gp2023_template_fits.csv",), "IceCube (DNNCascade)", ICECUBE_GP2023,
                    messenger="neutrino",
                    notes="One row per template. pi0: E^2 dN/dE at 100 TeV in 1e-12 TeV cm^-2 s^-1, per flavour "
                          "(nu + nubar), integrated over the full sky, E^-2.7 spectrum; KRA-gamma: multiple of the model "
                          "flux (all-flavour template). Normalisation columns carry the unit string in "
                          "normalisation_unit.",
                    extra_meta={"per_flavour": True, "pi0_reference_energy_GeV": 1e5}),
        DatasetSpec("icecube_gp2023_kra_gamma_5", "neutrino", _first(readers.read_sky_integrated_e2),
                    ("neutrino/IceCube2023_nus_gp_kra5.txt",), "IceCube (DNNCascade)", ICECUBE_GP2023,
                    messenger="neutrino",
                    notes="Best-fit neutrino spectrum of the KRA-gamma template with a 5 PeV cutoff (0.55 x model flux), "
                          "DIGITISED from the Science paper's figure by a third party (carmeloevoli/The_CR_Spectrum); "
                          "E^2 dN/dE per flavour (nu + nubar) integrated over the full sky [GeV cm^-2 s^-1], 1-100 TeV. "
                          "The 1-sigma range is the template-fit table's (0.398-0.726 x model flux).",
                    extra_meta={"per_flavour": True, "sky_integrated": True, "template": "KRA_gamma_5PeV"}),
        DatasetSpec("icecube_gp2023_kra_gamma_50", "neutrino", _first(readers.read_sky_integrated_e2),
                    ("neutrino/IceCube2023_nus_gp_kra50.txt",), "IceCube (DNNCascade)", ICECUBE_GP2023,
                    messenger="neutrino",
                    notes="As icecube_gp2023_kra_gamma_5 for the KRA-gamma template with a 50 PeV cutoff "
                          "(0.37 x model flux; 1-sigma 0.260-0.500).",
                    extra_meta={"per_flavour": True, "sky_integrated": True, "template": "KRA_gamma_50PeV"}),
        DatasetSpec("catalog_1lhaaso", "catalog", _first(readers.read_1lhaaso_catalog),
                    ("catalogs/1LHAASO_catalog.fits",), "LHAASO",
                    "Z. Cao et al. (LHAASO Coll.), ApJS 271 (2024) 25, arXiv:2305.17030",
                    notes="One row per component (KM2A, WCDA); glon/glat computed with astropy from FK5 J2000 RA/Dec. "
                          "r39 = 39 % containment radius (Gaussian sigma); r39_ul = 95 % UL for point-like components. "
                          "Licence CC BY-NC-SA 4.0."),
        DatasetSpec("catalog_gammacat", "catalog", _first(readers.read_gammacat),
                    ("catalogs/gammacat.fits.gz",), "gamma-cat",
                    "C. Deil et al., ICRC2017, arXiv:1709.04217 (gamma-cat)",
                    notes="Positions and morphology only (morph_sigma = Gaussian sigma, shell outer radius). "
                          "Licence CC BY-NC-SA 4.0."),
    ]
}


# ----------------------------------------------------------------------------------------------
# public functions
# ----------------------------------------------------------------------------------------------


def list_datasets() -> list[str]:
    """Names of all data sets, in definition order."""
    return list(DATASETS)


class RawChecksumError(ValueError):
    """A raw file's bytes differ from its registry sha256 (edited, damaged or replaced)."""


def check_raw_sha256(dataset: str, paths, actual_sha256: Mapping[str, str], registry: Mapping) -> None:
    """Raise :class:`RawChecksumError` unless every raw file matches its registry sha256.

    Parameters
    ----------
    dataset : str
        Data-set name (for the message).
    paths : sequence of pathlib.Path
        The raw files; each name must be a registry key.
    actual_sha256 : mapping of str to str
        File name -> sha256 of the bytes read.
    registry : mapping of str to RegistryEntry
        :func:`galdiff.data.registry.load_registry`.
    """
    for path in paths:
        entry = registry.get(path.name)
        if entry is None:
            raise RawChecksumError(f"data set {dataset!r}: raw file {path} is not in the registry")
        if actual_sha256[path.name] != entry.sha256:
            remedy = ("restore the committed file (git checkout)" if entry.kind == "transcribed"
                      else "delete it and rerun: rule download_raw fetches a verified copy")
            raise RawChecksumError(
                f"data set {dataset!r}: raw file {path} has sha256 {actual_sha256[path.name]}, the registry "
                f"expects {entry.sha256} (edited or damaged copy; {remedy})")


def build_dataset(name: str, raw_dir, registry: Mapping | None = None) -> Table:
    """Build the tidy table of data set ``name`` from its raw files.

    ``raw_dir`` is either the raw-data folder (files at ``raw_dir/<folder>/<name>``) or a mapping
    from each raw file name to its path (what the workflow passes, since transcribed files live
    in the repository and downloaded ones in the working directory). With ``registry`` (what
    :func:`galdiff.data.registry.load_registry` returns; the workflow always passes it) every raw
    file is checked against its registry sha256 before it is read.

    Raises
    ------
    KeyError
        Unknown data-set name.
    FileNotFoundError
        A raw file is missing (the message names it and the data set).
    RawChecksumError
        A raw file's sha256 differs from the registry's.
    galdiff.data.readers.RawFileError
        A raw file is empty, has a cut row, a non-number or a NaN/inf (file and line named), or
        its reader failed (data set and files named).
    """
    try:
        spec = DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known: {list_datasets()}") from None
    if isinstance(raw_dir, Mapping):
        missing = [Path(rel).name for rel in spec.raw_files if Path(rel).name not in raw_dir]
        if missing:
            raise FileNotFoundError(f"data set {name!r}: no path given for raw file(s) {missing}")
        paths = [Path(raw_dir[Path(relative).name]) for relative in spec.raw_files]
    else:
        paths = [Path(raw_dir) / relative for relative in spec.raw_files]
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"data set {name!r}: raw file {path} not found (materialise it first)")
    source_sha256 = {path.name: sha256_of_file(path) for path in paths}
    if registry is not None:
        check_raw_sha256(name, paths, source_sha256, registry)
    try:
        table = spec.reader(paths)
    except readers.RawFileError as exc:
        raise readers.RawFileError(f"data set {name!r}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a reader failure names the data set and its files
        raise readers.RawFileError(f"data set {name!r}: raw file(s) {[str(p) for p in paths]} could not be read "
                                   f"({type(exc).__name__}: {exc})") from None
    if spec.kind == "cosmic_ray" and table.meta.get("energy_axis") != spec.energy_axis:
        raise ValueError(f"data set {name!r}: reader gave energy axis {table.meta.get('energy_axis')!r}, "
                         f"expected {spec.energy_axis!r}")
    meta = {
        "dataset": name,
        "kind": spec.kind,
        "experiment": spec.experiment,
        "citation": spec.citation,
        "source_files": [Path(p).name for p in spec.raw_files],
        "source_sha256": source_sha256,
        "notes": spec.notes,
    }
    if spec.species:
        meta["species"] = spec.species
    if spec.messenger:
        meta["messenger"] = spec.messenger
    meta.update(spec.extra_meta)
    meta["galdiff_version"] = provenance_meta()["galdiff_version"]
    table.meta.update(meta)
    return table


def write_dataset(table: Table, path) -> Path:
    """Write ``table`` as ECSV at ``path`` atomically with its row count (:func:`galdiff.io.write_ecsv`)."""
    return write_ecsv(table, path)


def read_dataset(path) -> Table:
    """Read a tidy ECSV table, checking its recorded row count (:func:`galdiff.io.read_ecsv`).

    The ``nucleon`` unit of per-nucleon axes is enabled by importing this module.
    """
    return read_ecsv(path)


class EkPerNucleonSpectrum(NamedTuple):
    """A cosmic-ray spectrum on kinetic energy per nucleon (plain float64 arrays).

    ``ek_GeV_per_n`` [GeV/n], bin edges ``ek_lo_GeV_per_n``/``ek_hi_GeV_per_n`` (NaN where absent),
    ``flux_per_GeV_per_n`` and its errors in (GeV/n)^-1 cm^-2 s^-1 sr^-1, ``is_upper_limit``.
    """

    ek_GeV_per_n: np.ndarray
    flux_per_GeV_per_n: np.ndarray
    stat_lo: np.ndarray
    stat_hi: np.ndarray
    sys_lo: np.ndarray
    sys_hi: np.ndarray
    ek_lo_GeV_per_n: np.ndarray
    ek_hi_GeV_per_n: np.ndarray
    is_upper_limit: np.ndarray


def species_of(table: Table) -> kin.Species:
    """Kinematic species of a cosmic-ray table from ``meta['species']`` (e+e- use the electron mass)."""
    name = table.meta.get("species")
    if name not in _KINEMATIC_SPECIES:
        raise ValueError(f"table {table.meta.get('dataset')!r}: species {name!r} not one of {sorted(_KINEMATIC_SPECIES)}")
    return _KINEMATIC_SPECIES[name]


def flux_vs_ek_per_n(table: Table) -> EkPerNucleonSpectrum:
    """Convert a cosmic-ray table on any native axis to kinetic energy per nucleon T_n.

    Jacobians (galdiff.units): per rigidity -> per T_n: x dR/dT_n (= (A/|Z|)/beta);
    per total or kinetic energy per particle -> per T_n: x A (T_n = (E - M)/A or T/A).
    For leptons A = 1, so T_n = E - m_e and the flux is unchanged.
    """
    species = species_of(table)
    axis = table.meta.get("energy_axis")
    if axis not in ENERGY_AXES:
        raise ValueError(f"table {table.meta.get('dataset')!r}: unknown energy_axis {axis!r}")
    energy_unit, flux_unit = ENERGY_AXES[axis]
    energies = [table[c].quantity.to_value(energy_unit) for c in ("energy", "energy_lo", "energy_hi")]
    fluxes = [table[c].quantity.to_value(flux_unit) for c in ("flux", "stat_lo", "stat_hi", "sys_lo", "sys_hi")]
    if axis == "rigidity":
        ek = [kin.ek_per_n_from_rigidity_GV(e, species) for e in energies]
        jacobian = kin.drigidity_dek_per_n(ek[0], species)
    elif axis == "total_energy_per_particle":
        ek = [kin.ek_per_n_from_total_energy(e, species) for e in energies]
        jacobian = float(species.mass_number)
    elif axis == "kinetic_energy_per_particle":
        ek = [kin.ek_per_n_from_ek_per_particle(e, species) for e in energies]
        jacobian = float(species.mass_number)
    else:
        ek = [np.asarray(e, dtype=float) for e in energies]
        jacobian = 1.0
    converted = [np.asarray(f * jacobian, dtype=float) for f in fluxes]
    return EkPerNucleonSpectrum(ek[0], *converted, ek[1], ek[2], np.asarray(table["is_upper_limit"], dtype=bool))
