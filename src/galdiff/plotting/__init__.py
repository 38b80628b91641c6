"""Figures: one function per figure, one shared style (:mod:`galdiff.plotting.style`)."""

from .style import EXPERIMENT_STYLE, apply_style, e2_flux_axes, save_figure

__all__ = ["EXPERIMENT_STYLE", "apply_style", "e2_flux_axes", "save_figure"]
