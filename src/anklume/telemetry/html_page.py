"""The self-contained HTML page of the telemetry report (no script, no external asset)."""

from __future__ import annotations

import html
from collections.abc import Sequence

_STYLE = (
    "body{font-family:sans-serif;margin:2em;background:#fff;color:#111}"
    "pre{font-family:monospace;font-size:12px;line-height:1.1}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em}"
)


def page(title: str, summary: Sequence[str], fragments: Sequence[str]) -> str:
    """Assemble the page; ``summary`` lines are escaped, ``fragments`` are trusted HTML.

    >>> doc = page("Usage <1>", ["2 commands"], ["<pre>chart</pre>"])
    >>> "<title>Usage &lt;1&gt;</title>" in doc and "<pre>chart</pre>" in doc
    True
    >>> "http" in doc
    False
    """
    head = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
    )
    text = "".join(f"<p>{html.escape(line)}</p>\n" for line in summary)
    charts = "".join(f"<section>\n{fragment}\n</section>\n" for fragment in fragments)
    return f"{head}{text}{charts}</body>\n</html>\n"
