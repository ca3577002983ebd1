"""Converts a percent-format notebook with jupytext, executes it in a real
Jupyter kernel (nbclient, the ipykernel of this interpreter) and exports
the executed notebook to HTML, then checks the HTML holds the plan and
verify tables and the topology's SVG diagram inline (a data URI, as
nbconvert embeds SVG outputs).

    python run_notebook.py NOTEBOOK.py OUTDIR

Writes OUTDIR/NAME.ipynb (executed) and OUTDIR/NAME.html; exits 1 with the
failing cell's error if a cell raises or a check fails. Run by
scripts/vm-guest-tests inside the kernel VM (the notebook needs 802.1Q)."""

import base64
import os
import pathlib
import re
import sys

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def main() -> int:
    source, out = pathlib.Path(sys.argv[1]).resolve(), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(source)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    # Under emulation (the kernel VM without KVM) the kernel's start alone
    # took over nbclient's default 60 s once: give it 600.
    client = NotebookClient(
        nb, timeout=900, startup_timeout=600, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    try:
        client.execute()
        failed = None
    except CellExecutionError as e:
        failed = str(e)
    executed = out / (source.stem + ".ipynb")
    nbformat.write(nb, executed)
    html, _ = HTMLExporter().from_notebook_node(nb)
    (out / (source.stem + ".html")).write_text(html)
    if failed:
        print(f"{source.name}: a cell failed:\n{failed}")
        return 1
    # nbconvert inlines SVG outputs as data URIs (<img src="data:image/svg+xml;base64,...">).
    inline_svgs = [base64.b64decode(m).decode("utf-8", "replace") for m in re.findall(r'data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)', html)]
    diagram = [s for s in inline_svgs if "<svg" in s and "seed-router" in s and "container1" in s]
    checks = {
        "the plan table": "<caption>plan of seed" in html,
        "the verify table": "<caption>verify seed" in html,
        "the topology's inline SVG diagram": bool(diagram),
        "no error output": '"output_type": "error"' not in executed.read_text(),
    }
    missing = [what for what, ok in checks.items() if not ok]
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    if missing:
        print(f"{source.name}: the executed notebook's HTML lacks {', '.join(missing)}")
        return 1
    print(f"{source.name}: {cells} code cells executed in a Jupyter kernel; HTML {os.path.getsize(out / (source.stem + '.html'))} bytes with the plan and verify tables and the SVG diagram")
    return 0


if __name__ == "__main__":
    sys.exit(main())
