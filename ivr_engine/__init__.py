"""ivr-engine: YAML IVR flows and a skills-based ACD for Asterisk, driven over ARI."""

__all__ = ["__version__"]

__version__ = "0.1.0"
