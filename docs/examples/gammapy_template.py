"""A galdiff sky cube in gammapy: predicted counts of the Galactic diffuse emission.

Loads a galdiff Fermi-style CAR cube (``results/cubes/<model>/gamma_total_car.fits``, the
``gll_iem`` layout) as a :class:`~gammapy.modeling.models.TemplateSpatialModel` inside a
:class:`~gammapy.modeling.models.SkyModel`, as one does with Fermi's interstellar emission model,
and evaluates it in a :class:`~gammapy.datasets.MapDataset` for a made-up instrument: a ground
array with a flat 1 km^2 effective area observing for one year, perfect energy resolution and a
Gaussian PSF of 0.3 deg, looking at 15 < l < 125 deg, |b| < 5 deg (``--box``) between 25 TeV and
1 PeV. Prints the predicted counts per energy bin.

    python docs/examples/gammapy_template.py results/cubes/dr_low/gamma_total_car.fits
"""

import argparse

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from gammapy.datasets import MapDataset
from gammapy.irf import PSFMap
from gammapy.maps import MapAxis, WcsGeom
from gammapy.modeling.models import PowerLawNormSpectralModel, SkyModel, TemplateSpatialModel

#: The made-up instrument response (see the module docstring).
EFFECTIVE_AREA = 1.0 * u.km**2
LIVETIME = 1.0 * u.yr
PSF_SIGMA = 0.3 * u.deg


def diffuse_sky_model(cube_path, name="galdiff-diffuse"):
    """The cube as a SkyModel; its values are absolute intensities, so the template is not normalised.

    The power-law norm (norm = 1, index = 0) leaves the cube's spectrum as it is and can be fitted.
    """
    template = TemplateSpatialModel.read(cube_path, normalize=False)
    return SkyModel(spectral_model=PowerLawNormSpectralModel(), spatial_model=template, name=name)


def toy_dataset(l_min_deg=15.0, l_max_deg=125.0, b_max_deg=5.0, binsz_deg=0.25,
                energy_min=25 * u.TeV, energy_max=1 * u.PeV, n_bins=5):
    """A MapDataset of the made-up instrument over l_min < l < l_max, |b| < b_max (default: LHAASO inner)."""
    energy = MapAxis.from_energy_bounds(energy_min, energy_max, nbin=n_bins, name="energy")
    energy_true = MapAxis.from_energy_bounds(energy_min, energy_max, nbin=4 * n_bins, name="energy_true")
    centre = SkyCoord(0.5 * (l_min_deg + l_max_deg), 0.0, unit="deg", frame="galactic")
    geom = WcsGeom.create(skydir=centre, width=(l_max_deg - l_min_deg, 2.0 * b_max_deg), binsz=binsz_deg,
                          frame="galactic", axes=[energy])
    dataset = MapDataset.create(geom, energy_axis_true=energy_true, name="toy-array")
    dataset.exposure.quantity = np.ones(dataset.exposure.data.shape) * (EFFECTIVE_AREA * LIVETIME).to(dataset.exposure.unit)
    dataset.psf = PSFMap.from_gauss(energy_axis_true=energy_true, sigma=PSF_SIGMA)
    dataset.mask_safe.data[...] = True  # MapDataset.create leaves every bin unsafe
    return dataset


def main(cube_path, l_min_deg=15.0, l_max_deg=125.0, b_max_deg=5.0, binsz_deg=0.25):
    dataset = toy_dataset(l_min_deg, l_max_deg, b_max_deg, binsz_deg)
    dataset.models = [diffuse_sky_model(cube_path)]
    npred = dataset.npred()
    counts = npred.data.sum(axis=(1, 2))
    edges = npred.geom.axes["energy"].edges.to("TeV")
    print(f"{cube_path}: predicted counts for {EFFECTIVE_AREA} x {LIVETIME}, "
          f"{l_min_deg:g} < l < {l_max_deg:g} deg, |b| < {b_max_deg:g} deg")
    for low, high, value in zip(edges[:-1], edges[1:], counts):
        print(f"  {low.value:8.1f} - {high.value:8.1f} TeV: {value:12.1f}")
    print(f"  total: {counts.sum():.1f}")
    return counts


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cube", help="a galdiff CAR cube, e.g. results/cubes/dr_low/gamma_total_car.fits")
    parser.add_argument("--box", nargs=3, type=float, default=[15.0, 125.0, 5.0], metavar=("L_MIN", "L_MAX", "B_MAX"),
                        help="sky box in Galactic degrees (default: the LHAASO inner region)")
    parser.add_argument("--binsz", type=float, default=0.25, help="pixel size of the dataset in degrees")
    args = parser.parse_args()
    main(args.cube, *args.box, binsz_deg=args.binsz)
