"""The Galaxy model: interstellar gas, radiation field, magnetic field and source distributions.

Submodules: :mod:`.gas`, :mod:`.isrf`, :mod:`.bfield`, :mod:`.sources`.
"""
