"""Band of one fit's local spectra from its covariance (rule band_local, galdiff.uncertainty.bands)."""



import yaml

from galdiff.data.datasets import read_dataset, write_dataset
from galdiff.propagation.greens import read_greens_h5
from galdiff.propagation.run import read_result
from galdiff.provenance import provenance_meta
from galdiff.uncertainty.bands import local_band_table, rebuild_fit_model
from galdiff.script_logging import setup_logging


def main(fit_name, inputs, output, model_cfg, bands, log_path):
    log = setup_logging(log_path)
    content = read_greens_h5(inputs["greens"])
    secondary = None
    if fit_name == "leptons":
        secondary = {lepton: read_result(inputs[f"{lepton}_secondary"]).intensity_sun for lepton in ("electron", "positron")}
    model = rebuild_fit_model(fit_name, model_cfg, (content["ek_GeV_per_n"], content["greens"]), secondary)
    with open(inputs["fit"]) as handle:
        entry = yaml.safe_load(handle)["fits"][fit_name]
    energies = read_dataset(inputs["curves"])["ek_GeV_per_n"].value
    table = local_band_table(model, entry, energies, n_samples=int(bands["n_samples"]), seed=int(bands["seed"]),
                             levels=[float(cl) for cl in bands["levels"]])
    table.meta.update(provenance_meta(inputs=inputs))
    write_dataset(table, output)
    log.info("%s: %d draws, %d free parameters, %d draws clipped into the fit's limits", fit_name,
             table.meta["n_samples"], len(table.meta["free_parameters"]), table.meta["n_clipped"])


if __name__ == "__main__":
    main(snakemake.wildcards.fit, dict(snakemake.input.items()), snakemake.output[0],
         snakemake.params.model_cfg, dict(snakemake.params.bands), snakemake.log[0])
