"""principles."""
