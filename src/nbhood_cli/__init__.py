"""nbhood: neighbourhood health planning from the command line."""

__version__ = "0.1.0"
