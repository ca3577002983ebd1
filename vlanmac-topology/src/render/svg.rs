//! `vlanmac render --format svg`: the diagram as SVG, without Graphviz.

use layout::{
    backends::svg::SVGWriter,
    gv::{DotParser, GraphBuilder},
};

use vlanmac_core::Error;

use crate::Topology;

/// The [`super::dot`] diagram of `t` laid out and drawn as SVG by the
/// layout-rs crate (a Graphviz-compatible layout in Rust: nothing to
/// install, no process started). What Jupyter shows for a
/// `vlanmac.Topology`.
pub fn svg(t: &Topology) -> Result<String, Error> {
    let dot = super::dot(t);
    // layout-rs is not ours: a panic inside it becomes an error.
    std::panic::catch_unwind(move || {
        let mut parser = DotParser::new(&dot);
        let graph = parser.process().map_err(|e| Error::Internal(format!("the DOT rendering does not parse: {e}")))?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut writer = SVGWriter::new();
        visual.do_it(false, false, false, &mut writer);
        Ok(writer.finalize())
    })
    .unwrap_or_else(|_| Err(Error::Internal("the SVG layout failed".into())))
}
