"""What a pipeline IS: nodes, the dependency graph, compiled plans, pipelines,
pipelines used as nodes, and configuration (precedence, names -> objects).

Private: users import these names from :mod:`hypernodes`; backend and executor
authors read plans through :mod:`hypernodes.engine`.
"""
