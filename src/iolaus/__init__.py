"""Iolaus: find, triage and act on communities that share intimate images without consent or
child sexual abuse material, and stop them from growing back."""

__version__ = "0.1.0"
