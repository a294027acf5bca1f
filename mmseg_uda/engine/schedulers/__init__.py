from .prestep_poly_lr import PrestepPolyLR

__all__ = ['PrestepPolyLR']
