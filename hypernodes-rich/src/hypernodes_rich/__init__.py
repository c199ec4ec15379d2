"""hypernodes-rich: the rich plugin for hypernodes (filled in by its own issue)."""
