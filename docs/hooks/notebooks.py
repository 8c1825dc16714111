"""MkDocs hook: every ``*.ipynb`` under ``docs/`` also becomes a page (``NAME.md`` beside it).

The notebook itself is still copied to the site (a download link heads the page). Markdown cells are
kept as they are, code cells become ``python`` blocks and their stored outputs (stream text, plain
text results, PNG images) follow them; tests/test_docs.py executes the notebooks themselves.
"""

from __future__ import annotations

import posixpath
from typing import Any

import nbformat
from mkdocs.structure.files import File, Files


def _fence(text: str, lang: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}\n"


def _outputs(cell: Any) -> list[str]:
    parts = []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(_fence(out.get("text", ""), "text"))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data", {})
            if "image/png" in data:
                png = str(data["image/png"]).replace("\n", "")
                parts.append(f"![output](data:image/png;base64,{png})\n")
            elif "text/plain" in data:
                parts.append(_fence(str(data["text/plain"]), "text"))
        elif kind == "error":
            parts.append(_fence("\n".join(out.get("traceback", [])), "text"))
    return parts


def notebook_to_markdown(text: str, *, download: str) -> str:
    """Markdown for a notebook given as JSON text; ``download`` is the notebook's file name."""
    nb = nbformat.reads(text, as_version=4)
    parts = [f"*This page is a Jupyter notebook: [download {download}]({download}).*\n"]
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            parts.append(cell.source.rstrip() + "\n")
        elif cell.cell_type == "code" and cell.source.strip():
            parts.append(_fence(cell.source, "python"))
            parts.extend(_outputs(cell))
    return "\n".join(parts)


def on_files(files: Files, config: Any) -> Files:
    """Add a generated Markdown page for each notebook."""
    for nb_file in [f for f in files if f.src_uri.endswith(".ipynb")]:
        md_uri = nb_file.src_uri[: -len(".ipynb")] + ".md"
        if files.get_file_from_path(md_uri) is not None:
            continue
        with open(nb_file.abs_src_path, encoding="utf-8") as fh:
            content = notebook_to_markdown(fh.read(), download=posixpath.basename(nb_file.src_uri))
        files.append(File.generated(config, md_uri, content=content))
    return files
