"""reserves."""
