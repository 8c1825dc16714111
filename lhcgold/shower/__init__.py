"""shower."""
