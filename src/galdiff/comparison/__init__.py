"""The comparison with the paper: Table IV and the headline neutrino shares (:mod:`.table4`),
IceCube's reference bands in sky regions (:mod:`.icecube`); Tables I-III are :mod:`galdiff.tables`."""
