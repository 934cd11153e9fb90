"""nbpress: a static blog generator whose posts are Jupyter notebooks."""

__version__ = "0.1.0"
