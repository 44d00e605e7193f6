"""
The Flask cookie tutorial, as the bench's anchor: one page that renders the
cookies the browser sent and sets ``username=root``, under gunicorn
(``gunicorn flask_tutorial:app`` from this folder).
"""

from flask import Flask, make_response, render_template, request

app = Flask(__name__)


@app.route("/cookies")
def cookies():
    response = make_response(render_template("cookies.html", cookies=request.cookies))
    response.set_cookie("username", "root")
    return response
