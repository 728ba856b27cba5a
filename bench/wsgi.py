"""gunicorn entry point for the benchmark: the real app on the benchmark's database."""

import os

from bench.common import make_app

app = make_app(os.environ["CONCORD_BENCH_DATABASE_URL"], os.environ["CONCORD_BENCH_INSTANCE"])
