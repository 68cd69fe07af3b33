"""Lifelong learning by calibration (Singh et al., NeurIPS 2020): tasks learned in turn."""
