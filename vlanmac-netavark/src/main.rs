//! The `vlanmac-netavark` binary, installed as `vlanmac` in a netavark
//! plugin directory: one plugin invocation (see the library's `run`).

use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut stdin = Vec::new();
    // `info` takes no input; the others read all of it.
    if args.first().map(String::as_str) != Some("info") {
        if let Err(e) = std::io::stdin().read_to_end(&mut stdin) {
            println!("{}", vlanmac_netavark::Error::Decode(format!("read stdin: {e}")).to_json());
            std::process::exit(1);
        }
    }
    let out = vlanmac_netavark::run(&args, &stdin);
    let mut stdout = std::io::stdout().lock();
    if !out.stdout.is_empty() {
        let _ = writeln!(stdout, "{}", out.stdout);
    }
    let _ = stdout.flush();
    std::process::exit(out.status);
}
