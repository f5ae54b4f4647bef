"""`python -m jeugdstem`: the same CLI as the `jeugdstem` command."""

from jeugdstem.cli import app

app(prog_name="jeugdstem")
