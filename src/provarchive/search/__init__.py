"""Search: the search-engine seam, its engines, and keeping an index in step with the catalog."""
