"""Concord's performance benchmark (issue 7). Run it with ``make bench``; see docs/performance.md."""
