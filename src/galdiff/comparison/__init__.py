"""The comparison with the paper: Table IV and the headline neutrino shares (:mod:`.table4`),
IceCube's reference bands in sky regions (:mod:`.icecube`), the paper's published values in one
file (:mod:`.paper_values`, ``paper_values.yaml``); Tables I-III are :mod:`galdiff.tables`."""
