"""hypernodes-modal: the modal plugin for hypernodes (filled in by its own issue)."""
