"""Where tags come from: one module per source, all returning the shared `Tag` model."""
