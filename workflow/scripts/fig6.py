"""Figure 6: all-sky neutrino map integrated over an energy range (rule fig6)."""

from galdiff.plotting.skymap import plot_allsky_mollweide
from galdiff.plotting.style import save_figure
from galdiff.provenance import provenance_meta
from galdiff.script_logging import setup_logging
from galdiff.skymaps.cube import integrate_over_energy, read_healpix_cube


def main(cube_path, energy_range_GeV, output_path, log_path):
    log = setup_logging(log_path)
    cube = read_healpix_cube(cube_path)
    e_min, e_max = energy_range_GeV
    integrated = integrate_over_energy(cube.energies_GeV, cube.data, e_min, e_max)
    label = rf"$\int_{{{e_min / 1e3:g}\,\mathrm{{TeV}}}}^{{{e_max / 1e6:g}\,\mathrm{{PeV}}}} I_\nu\,\mathrm{{d}}E$ [cm$^{{-2}}$ s$^{{-1}}$ sr$^{{-1}}$]"
    fig, _ = plot_allsky_mollweide(integrated, label, log=True)
    save_figure(fig, output_path, provenance=provenance_meta(inputs={"cube": cube_path}))
    log.info("wrote %s", output_path)


if __name__ == "__main__":
    main(snakemake.input[0], snakemake.params.energy_range_GeV, snakemake.output[0], snakemake.log[0])
