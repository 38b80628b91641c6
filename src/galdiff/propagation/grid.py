"""The (r, z, E) grid of the 2D cylindrical propagation model.

Axis order everywhere in :mod:`galdiff.propagation` is ``(E, r, z)``: energy first, then
Galactocentric radius, then height above the plane. Spatial nodes include the boundary nodes
(r = r_max, z = +/- zh) where the free-escape condition psi = 0 holds; the solver's unknowns are
the interior nodes only (r_0 = 0 is an unknown, regular axis).

The energy axis is kinetic energy per nucleon T_n in GeV/n, uniform in log T_n
(``bins_per_decade`` nodes per decade, both ends included). Each node k owns a finite-volume cell
in T_n whose edges are the geometric means of neighbouring nodes; the first and last cells are
half cells that end at the end nodes, so the energy domain is exactly [T_min, T_max] whatever
the resolution (a boundary that moved with the step would make the solution converge only at
first order under strong reacceleration). See :attr:`Grid.ek_edges_GeV_per_n`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..units import Species, beta_from_ek_per_n, rigidity_GV_from_ek_per_n

#: Keys of the grid configuration mapping and their meaning (units in the name).
GRID_CONFIG_KEYS = {
    "r_max_kpc": "outer radius of the cylinder, free escape psi = 0 there",
    "dr_kpc": "radial node spacing",
    "zh_kpc": "half height of the halo, free escape psi = 0 at |z| = zh",
    "dz_kpc": "vertical node spacing",
    "ek_min_GeV": "lowest kinetic energy per nucleon node (GeV/n)",
    "ek_max_GeV": "highest kinetic energy per nucleon node (GeV/n)",
    "bins_per_decade": "energy nodes per decade of T_n",
}


def _uniform_nodes(start: float, stop: float, step: float, key: str) -> np.ndarray:
    """Nodes start, start + step, ..., stop; stop must be an integer number of steps away."""
    n_steps = (stop - start) / step
    n_int = int(round(n_steps))
    if n_int < 2 or abs(n_steps - n_int) > 1e-6 * max(1.0, n_steps):
        raise ValueError(
            f"grid: {key} must divide the extent ({stop - start:g} kpc) into an integer "
            f"number (>= 2) of steps; got {n_steps:g}"
        )
    return start + step * np.arange(n_int + 1)


def spatial_nodes_kpc(cfg) -> tuple[np.ndarray, np.ndarray]:
    """Radial nodes 0 ... r_max and vertical nodes -zh ... zh (kpc) of a grid config mapping.

    Only ``r_max_kpc, dr_kpc, zh_kpc, dz_kpc`` are read: the (r, z) nodes that the emissivities
    and the line-of-sight operators share.
    """
    r_kpc = _uniform_nodes(0.0, float(cfg["r_max_kpc"]), float(cfg["dr_kpc"]), "dr_kpc")
    zh = float(cfg["zh_kpc"])
    z_kpc = _uniform_nodes(-zh, zh, float(cfg["dz_kpc"]), "dz_kpc")
    return r_kpc, z_kpc


@dataclass(frozen=True, eq=False)
class Grid:
    """Spatial and energy nodes of the propagation problem.

    Attributes
    ----------
    r_kpc : ndarray, shape (n_r,)
        Radial nodes 0, dr, ..., r_max in kpc (last node is the escape boundary).
    z_kpc : ndarray, shape (n_z,)
        Vertical nodes -zh, ..., +zh in kpc (first and last are escape boundaries).
    ek_GeV_per_n : ndarray, shape (n_E,)
        Kinetic energy per nucleon nodes in GeV/n, uniform in log.
    """

    r_kpc: np.ndarray
    z_kpc: np.ndarray
    ek_GeV_per_n: np.ndarray
    config: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        for name in ("r_kpc", "z_kpc", "ek_GeV_per_n"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.ndim != 1 or arr.size < 2:
                raise ValueError(f"grid: {name} must be a 1D array with >= 2 nodes")
            object.__setattr__(self, name, arr)
        if self.r_kpc[0] != 0.0 or np.any(np.diff(self.r_kpc) <= 0):
            raise ValueError("grid: r_kpc must start at 0 and increase")
        if np.any(np.diff(self.z_kpc) <= 0) or np.any(np.diff(self.ek_GeV_per_n) <= 0):
            raise ValueError("grid: z_kpc and ek_GeV_per_n must increase")
        if self.ek_GeV_per_n[0] <= 0:
            raise ValueError("grid: ek_GeV_per_n must be positive")
        steps_r = np.diff(self.r_kpc)
        steps_z = np.diff(self.z_kpc)
        log_steps = np.diff(np.log(self.ek_GeV_per_n))
        if np.ptp(steps_r) > 1e-9 * steps_r[0] or np.ptp(steps_z) > 1e-9 * steps_z[0]:
            raise ValueError("grid: r_kpc and z_kpc must be uniformly spaced")
        if np.ptp(log_steps) > 1e-9 * log_steps[0]:
            raise ValueError("grid: ek_GeV_per_n must be uniform in log")

    # --- construction -------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict, species: str | None = None) -> "Grid":
        """Build a grid from a config-like mapping.

        Parameters
        ----------
        config : dict
            Keys ``r_max_kpc, dr_kpc, zh_kpc, dz_kpc, ek_min_GeV, ek_max_GeV,
            bins_per_decade`` (see :data:`GRID_CONFIG_KEYS`; energies are kinetic energy
            per nucleon in GeV/n). An optional ``species`` sub-mapping
            ``{name: {ek_min_GeV: ..., ...}}`` overrides the energy keys per species.
        species : str, optional
            Species name whose overrides to apply.

        Returns
        -------
        Grid
        """
        cfg = dict(config)
        overrides = cfg.pop("species", None) or {}
        if species is not None and species in overrides:
            cfg.update(overrides[species])
        missing = [key for key in GRID_CONFIG_KEYS if key not in cfg]
        if missing:
            raise KeyError(f"grid config: missing key(s) {missing}; expected {list(GRID_CONFIG_KEYS)}")
        for key in GRID_CONFIG_KEYS:
            value = float(cfg[key])
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"grid config: {key} must be a positive number, got {cfg[key]!r}")
        if cfg["ek_max_GeV"] <= cfg["ek_min_GeV"]:
            raise ValueError("grid config: ek_max_GeV must exceed ek_min_GeV")
        r_kpc, z_kpc = spatial_nodes_kpc(cfg)
        decades = np.log10(float(cfg["ek_max_GeV"]) / float(cfg["ek_min_GeV"]))
        n_e = int(round(decades * float(cfg["bins_per_decade"]))) + 1
        ek = np.geomspace(float(cfg["ek_min_GeV"]), float(cfg["ek_max_GeV"]), n_e)
        kept = {key: cfg[key] for key in GRID_CONFIG_KEYS}
        return cls(r_kpc=r_kpc, z_kpc=z_kpc, ek_GeV_per_n=ek, config=kept)

    # --- sizes and steps ----------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_E, n_r, n_z): shape of psi, q, b, Gamma arrays."""
        return (self.ek_GeV_per_n.size, self.r_kpc.size, self.z_kpc.size)

    @property
    def dr_kpc(self) -> float:
        return float(self.r_kpc[1] - self.r_kpc[0])

    @property
    def dz_kpc(self) -> float:
        return float(self.z_kpc[1] - self.z_kpc[0])

    @property
    def dlog_ek(self) -> float:
        """Natural-log step of the energy axis, ln(T_{k+1}/T_k)."""
        return float(np.log(self.ek_GeV_per_n[1] / self.ek_GeV_per_n[0]))

    @property
    def interior_shape(self) -> tuple[int, int]:
        """(n_r - 1, n_z - 2): the spatial unknowns (r = r_max and |z| = zh excluded)."""
        return (self.r_kpc.size - 1, self.z_kpc.size - 2)

    @property
    def n_spatial_unknowns(self) -> int:
        n_r, n_z = self.interior_shape
        return n_r * n_z

    @property
    def ek_edges_GeV_per_n(self) -> np.ndarray:
        """Cell edges in T_n (GeV/n), shape (n_E + 1,).

        Interior edges are the geometric means of neighbouring nodes; the outer edges are the
        end nodes themselves (half cells at both ends).
        """
        ek = self.ek_GeV_per_n
        return np.concatenate([[ek[0]], np.sqrt(ek[:-1] * ek[1:]), [ek[-1]]])

    @property
    def ek_widths_GeV_per_n(self) -> np.ndarray:
        """Cell widths Delta T_n (GeV/n), shape (n_E,)."""
        return np.diff(self.ek_edges_GeV_per_n)

    # --- per-species kinematics ---------------------------------------------------------
    def beta(self, species: Species) -> np.ndarray:
        """v/c at the energy nodes, shape (n_E,)."""
        return beta_from_ek_per_n(self.ek_GeV_per_n, species)

    def rigidity_GV(self, species: Species) -> np.ndarray:
        """Rigidity at the energy nodes in GV, shape (n_E,)."""
        return rigidity_GV_from_ek_per_n(self.ek_GeV_per_n, species)

    def momentum_GeV_per_n(self, ek_GeV_per_n: np.ndarray, species: Species) -> np.ndarray:
        """Momentum per nucleon p_n c = sqrt(T_n (T_n + 2 m_n)) in GeV/n for given T_n."""
        t = np.asarray(ek_GeV_per_n, dtype=float)
        return np.sqrt(t * (t + 2.0 * species.mass_per_nucleon_GeV))

    def interior_to_full(self, interior: np.ndarray) -> np.ndarray:
        """Embed an (n_E, n_spatial_unknowns) array into (n_E, n_r, n_z) with zero boundaries."""
        n_e = interior.shape[0]
        full = np.zeros((n_e, self.r_kpc.size, self.z_kpc.size))
        full[:, :-1, 1:-1] = interior.reshape((n_e,) + self.interior_shape)
        return full

    def full_to_interior(self, full: np.ndarray) -> np.ndarray:
        """Take the interior nodes of an (n_E, n_r, n_z) array as (n_E, n_spatial_unknowns)."""
        full = np.asarray(full, dtype=float)
        return np.ascontiguousarray(full[:, :-1, 1:-1]).reshape(full.shape[0], -1)

    def point_weights(self, r_kpc: float, z_kpc: float) -> np.ndarray:
        """Bilinear interpolation weights of the point (r, z) on the interior unknowns.

        Returns
        -------
        ndarray, shape (n_spatial_unknowns,)
            w such that psi(r, z) = w . psi_interior (boundary nodes carry psi = 0).
        """
        if not (0.0 <= r_kpc <= self.r_kpc[-1]) or not (self.z_kpc[0] <= z_kpc <= self.z_kpc[-1]):
            raise ValueError(f"point (r={r_kpc} kpc, z={z_kpc} kpc) lies outside the grid")
        full = np.zeros((1, self.r_kpc.size, self.z_kpc.size))
        i = min(int(np.searchsorted(self.r_kpc, r_kpc, side="right") - 1), self.r_kpc.size - 2)
        j = min(int(np.searchsorted(self.z_kpc, z_kpc, side="right") - 1), self.z_kpc.size - 2)
        fr = (r_kpc - self.r_kpc[i]) / self.dr_kpc
        fz = (z_kpc - self.z_kpc[j]) / self.dz_kpc
        full[0, i, j] += (1 - fr) * (1 - fz)
        full[0, i + 1, j] += fr * (1 - fz)
        full[0, i, j + 1] += (1 - fr) * fz
        full[0, i + 1, j + 1] += fr * fz
        return self.full_to_interior(full)[0]
