"""tagbot: keeps container image tags in Dockerfiles and compose files up to date."""

__version__ = "0.1.0"
