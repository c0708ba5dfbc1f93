"""A package whose functions import their helpers relatively."""
