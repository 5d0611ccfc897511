"""finsig-runner: the FINSIG pipeline-in-a-box runner."""

__version__ = "0.1.0"
