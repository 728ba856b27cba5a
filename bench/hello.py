"""The load reference: a bare Flask app with one "hello" route, served like the real one.

Two more routes give the floor for a large answer (an info row, no target): the fewest a bare Flask app
can do to send ``size`` bytes, from memory (``/bytes/<size>``) and from a file by sendfile
(``/file/<size>``, as the published files are sent). Under load against the same hello, they say how
much of a published file's ratio is the bytes themselves.
"""

import os
import tempfile
from pathlib import Path

from flask import Flask, Response, abort, send_file

app = Flask(__name__)
LARGEST = 20_000_000
_bodies: dict[int, bytes] = {}


@app.route("/hello")
def hello():
    return "hello"


@app.route("/bytes/<int:size>")
def body(size: int):
    if size > LARGEST:
        abort(404)
    data = _bodies.get(size)
    if data is None:
        data = _bodies[size] = b"x" * size
    return Response(data, mimetype="text/plain")


@app.route("/file/<int:size>")
def file(size: int):
    if size > LARGEST:
        abort(404)
    path = Path(tempfile.gettempdir()) / f"concord-bench-floor-{size}.txt"
    if not path.exists() or path.stat().st_size != size:
        # Written aside, then renamed: the other worker may be sending the file at that moment.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as part:
            part.write(b"x" * size)
        os.replace(part.name, path)
    return send_file(path, mimetype="text/plain", conditional=False, etag=False)
