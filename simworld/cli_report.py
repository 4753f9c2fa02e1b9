"""``simworld report DIR [--out report.html]``: one self-contained HTML page for a run, sweep or survey folder.

The page has no script and makes no request (a strict Content-Security-Policy); its figures are inline SVG
(:mod:`simworld.analysis.html_report`). The report's path is the last line of stdout. Bad input (not such a
folder, an output path that is a folder or one of the folder's data files) is one line, exit 2.
"""

from __future__ import annotations

import click


@click.command("report", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--out", type=click.Path(), default=None, help="The HTML file (default: FOLDER/report.html).")
@click.option("--scenario", "scenario", default=None, metavar="FILE.py",
              help="The scenario file a run of your own scenario came from (never taken from the run folder).")
def report(folder: str, out: str | None, scenario: str | None) -> None:
    """A self-contained HTML report of a run, sweep or survey FOLDER."""
    from simworld.analysis.html_report import write_report

    click.echo(str(write_report(folder, out, scenario)))
