"""The load reference: a bare Flask app with one "hello" route, served like the real one."""

from flask import Flask

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "hello"
