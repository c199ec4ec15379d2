"""The engine: how a run happens (placeholder, filled by the engine-interface work)."""
