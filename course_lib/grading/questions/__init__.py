"""Visible check cases, one module per topic (``check("topic.name", ...)`` imports ``topic``)."""
