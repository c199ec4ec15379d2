"""hypernodes-daft: the daft plugin for hypernodes (filled in by its own issue)."""
