"""Plots: ax in, artists out (needs matplotlib: pip install 'lhcgold[plot]')."""
