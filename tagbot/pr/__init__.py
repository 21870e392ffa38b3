"""Pull requests: `grouping` (updates -> branches), `body` (titles and text), `github` (the
only PyGithub importer) and `sync` (open, update, close)."""
