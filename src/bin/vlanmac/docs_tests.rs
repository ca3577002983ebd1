//! The README's figures and synopsis, checked against the code so they
//! cannot drift: the demo's number of checks, the error table's variants,
//! the CLI synopsis against `--help`.

use clap::CommandFactory;
use vlanmac::topology::{self, CheckPlan};

use crate::Cli;

const README: &str = include_str!("../../../README.md");
const CORE_ERRORS: &str = include_str!("../../../vlanmac-core/src/error.rs");

#[test]
fn the_demos_number_of_checks_is_what_verify_makes() {
    let seed = topology::from_yaml(crate::demo::SEED, "seed").unwrap();
    // The demo verifies the full mesh, as the walkthrough pings everything.
    let n = seed.check_count(CheckPlan::Mesh).unwrap();
    let said = format!("verified ({n} checks)");
    assert!(README.contains(&said), "README.md does not say {said:?}");
}

#[test]
fn the_error_table_lists_every_variant_of_the_core_error() {
    let body = &CORE_ERRORS[CORE_ERRORS.find("pub enum Error {").unwrap()..];
    let body = &body[..body.find("\n}\n").unwrap()];
    // Variants: lines indented four spaces that start with a capital.
    let variants: Vec<&str> = body
        .lines()
        .filter(|l| l.starts_with("    ") && !l.starts_with("     "))
        .map(str::trim)
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|l| l.split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or(""))
        .collect();
    assert!(variants.len() >= 16, "{variants:?}");
    // The table's rows: from the first row after "### Errors" to the first
    // line that is not one.
    let rows: Vec<&str> = README[README.find("### Errors").unwrap()..]
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter(|l| l.starts_with("| `"))
        .collect();
    let table = rows.join("\n");
    for v in &variants {
        assert!(table.contains(&format!("| `{v}` |")), "README.md's error table lacks `{v}`");
    }
    assert_eq!(rows.len(), variants.len(), "README.md's error table has {} rows for {variants:?}", rows.len());
}

#[test]
fn the_synopsis_is_what_help_says() {
    let block = &README[README.find("```text\nvlanmac plan").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let cli = Cli::command();
    for sub in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let line = block
            .lines()
            .find(|l| l.starts_with(&format!("vlanmac {name} ")) || *l == format!("vlanmac {name}"))
            .unwrap_or_else(|| panic!("README.md's synopsis has no line for `vlanmac {name}`"));
        let synopsis = line.split("  ").next().unwrap_or(line);
        let mut want: Vec<String> =
            sub.get_arguments().filter_map(|a| a.get_long()).map(|l| format!("--{l}")).collect();
        want.sort();
        let mut have: Vec<String> = synopsis
            .split(|c: char| c.is_whitespace() || c == '[' || c == ']')
            .filter(|w| w.starts_with("--"))
            .map(str::to_string)
            .collect();
        have.sort();
        assert_eq!(have, want, "README.md: `{synopsis}` against `vlanmac {name} --help`");
    }
}
