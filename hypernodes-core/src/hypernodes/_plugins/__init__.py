"""The plugin door: hookspecs (``hookspecs``), the core's built-ins (``builtin``),
and the registry that finds plugins through entry points (``registry``).

Kept empty so ``import hypernodes`` imports only the hook markers.
"""
