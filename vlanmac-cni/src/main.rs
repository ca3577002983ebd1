//! The `vlanmac-cni` binary: one CNI invocation (see the library's `run`).

use std::io::{Read, Write};

fn main() {
    let mut stdin = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
        let err = vlanmac_cni::error::CniError::new(vlanmac_cni::error::Code::Io, format!("read stdin: {e}"));
        println!("{}", err.to_json(vlanmac_cni::version::NEWEST));
        std::process::exit(1);
    }
    let out = vlanmac_cni::run(|k| std::env::var(k).ok(), &stdin);
    let mut stdout = std::io::stdout().lock();
    if !out.stdout.is_empty() {
        let _ = writeln!(stdout, "{}", out.stdout);
    }
    let _ = stdout.flush();
    std::process::exit(out.status);
}
