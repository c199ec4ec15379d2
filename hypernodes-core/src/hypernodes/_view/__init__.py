"""Seeing a pipeline: drawings (Graphviz, DOT, Mermaid) and a readable summary.

``PipelineViews`` is mixed into ``Pipeline``; everything else here is imported
on first use, so ``import hypernodes`` stays light.
"""

from __future__ import annotations

from .views import PipelineViews

__all__ = ["PipelineViews"]
