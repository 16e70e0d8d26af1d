"""The storage layer: the OCFL storage root, durable writes and the writer lock."""
