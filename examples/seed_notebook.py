# %% [markdown]
# # The seed walkthrough from Python
#
# A notebook in percent format: open it with Jupytext, VS Code or Spyder,
# convert it (`jupytext --to ipynb examples/seed_notebook.py`), or run it as
# a script. It builds the seed topology of
# `docker-macvlan-vlans.md` — VLANs 10 and 20 on a trunk, container0/1/2 on
# macvlans, container1 on both — in throwaway namespaces with an emulated
# router, shows its diagram, the plan and the verify tables, then takes it
# down. Needs root and a kernel with 802.1Q (`scripts/test` converts it and
# executes it in a Jupyter kernel inside the kernel VM).

# %%
import pathlib

import vlanmac

try:  # in Jupyter, results render as HTML tables
    from IPython.display import display
except ImportError:  # as a script, print the text and the HTML

    def display(obj):
        print(obj)
        html = getattr(obj, "_repr_html_", None)
        if html:
            print(html())


# As a script, next to this file; in Jupyter, the notebook's directory.
here = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()
topo = vlanmac.Topology.from_file(here / "seed.yaml")
topo  # in Jupyter: the diagram (an inline SVG)

# %% [markdown]
# ## Plan: what `apply` would do (`+` create, `~` change, `-` remove)

# %%
plan = topo.plan()
display(plan)

# %% [markdown]
# ## Apply, then a second plan is empty

# %%
result = topo.apply()
print(result)
assert topo.plan().is_empty()

# %% [markdown]
# ## Verify: read-back, pings, hop counts, the router's ARP table

# %%
# The walkthrough's checks are every ping and traceroute: the full mesh
# (the default linear plan pings each endpoint's gateways and ring peer).
report = topo.verify(mesh=True)
display(report)
hops = {(c["from"], c["to"].split()[-1]): c["observed"] for c in report.checks if c["kind"] == "hops"}
print("container0 -> 10.0.10.3:", hops[("container0", "10.0.10.3")])
print("container0 -> 10.0.20.3:", hops[("container0", "10.0.20.3")])

# %%
with vlanmac.Netlink(netns="container1") as nl:
    for link in nl.links():
        print(link)

# %% [markdown]
# ## Down: remove exactly what was created

# %%
down = topo.down()
print(down.removed)
assert report.passed, "some checks failed"
