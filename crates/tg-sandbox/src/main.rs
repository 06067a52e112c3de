//! `tg-sandbox --listen 127.0.0.1:0 --data PATH ...`: prints the bound address on its
//! first line of output, serves until SIGTERM/SIGINT, saves state on the way out.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use tg_sandbox::SandboxConfig;

const USAGE: &str =
    "usage: tg-sandbox [--listen ADDR] [--data FILE] [--client-id ID] [--client-secret S]
                  [--tenant COMPANYID] [--token-ttl SECS] [--rate-limit PER_SEC]
                  [--simulate-partners] [--quiet]";

fn parse(args: &[String]) -> Result<SandboxConfig, String> {
    let mut cfg = SandboxConfig::default();
    if let Ok(s) = std::env::var("TG_SANDBOX_CLIENT_SECRET") {
        cfg.client_secret = s;
    }
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match a.as_str() {
            "--listen" => {
                cfg.listen = value("--listen")?
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("--listen: {e}"))?
            }
            "--data" => cfg.data = Some(PathBuf::from(value("--data")?)),
            "--client-id" => cfg.client_id = value("--client-id")?,
            "--client-secret" => cfg.client_secret = value("--client-secret")?,
            "--tenant" => cfg.tenant = value("--tenant")?,
            "--token-ttl" => {
                cfg.token_ttl_secs = value("--token-ttl")?
                    .parse()
                    .map_err(|e| format!("--token-ttl: {e}"))?
            }
            "--rate-limit" => {
                cfg.rate_limit_per_sec = Some(
                    value("--rate-limit")?
                        .parse()
                        .map_err(|e| format!("--rate-limit: {e}"))?,
                )
            }
            "--simulate-partners" => cfg.simulate_partners = true,
            "--quiet" => cfg.quiet = true,
            "--help" | "-h" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(cfg)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let running = match tg_sandbox::start(cfg).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tg-sandbox: {e}");
            std::process::exit(1);
        }
    };
    println!("tg-sandbox listening on {}", running.base_url());
    let _ = std::io::stdout().flush();
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tg-sandbox: cannot watch SIGTERM: {e}");
            std::process::exit(1);
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    running.shutdown().await;
}
