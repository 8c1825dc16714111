"""Machine learning estimators (needs torch: pip install 'lhcgold[ml]')."""
