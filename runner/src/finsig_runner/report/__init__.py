"""Renderers of a run's evidence for people: reports/index.html and a Markdown summary.

Reads the evidence (report/load.py) into one view model (report/model.py), then renders it
(html_page.py, markdown_page.py). Uses core and evidence only; stages and the CLI call it.
"""

from finsig_runner.report.render import Rendered, render, render_run, stage_graph

__all__ = ["Rendered", "render", "render_run", "stage_graph"]
