"""toys."""
