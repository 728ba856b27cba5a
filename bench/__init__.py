"""Concord's performance benchmark (issue 17's method). Run it with ``make bench``; see docs/performance.md."""
