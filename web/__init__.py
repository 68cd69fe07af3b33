"""`make web`: every trade-off of the released models live in a local web page.

An application on top of the project, like `demos/`: it exports the releases
(`web/models.py`), calls them through the project's serving code, in this process or on a
ModelServer, and serves a page of three tabs (codec, style transfer, beta-VAE) on
127.0.0.1 (`web/server.py`, `web/static/`). `python -m web.main` starts it.
"""
