"""servicing."""
