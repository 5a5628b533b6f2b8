//! `sfscale limits`: the org's allocations from `/limits` (one API call) as a table of used,
//! max, remaining and share used, or as JSON for scripts and monitoring.

use std::process::ExitCode;

use serde_json::json;
use sfscale::OrgLimits;

use crate::connect::ConnectArgs;
use crate::failure::Failure;
use crate::report::{percent, thousands};

/// Show the org's API usage and limits.
#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  sfscale limits
  sfscale limits --json | jq .DailyApiRequests
  SFSCALE_INSTANCE_URL=http://127.0.0.1:8443 SFSCALE_CLIENT_ID=sfscale-emulator-client \\
    SFSCALE_CLIENT_SECRET=sfscale-emulator-secret sfscale limits")]
pub struct Args {
    /// Print JSON: {"Name": {"max", "remaining", "used"}, ...}
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

pub async fn run(args: Args) -> Result<ExitCode, Failure> {
    let client = args.connect.client()?;
    let limits = client.limits().await?;
    if args.json {
        println!("{}", as_json(&limits));
    } else {
        print!("{}", as_table(&limits));
    }
    Ok(ExitCode::SUCCESS)
}

fn as_json(limits: &OrgLimits) -> String {
    let map: serde_json::Map<String, serde_json::Value> = limits
        .0
        .iter()
        .map(|(name, l)| {
            let entry = json!({"max": l.max, "remaining": l.remaining, "used": l.used()});
            (name.clone(), entry)
        })
        .collect();
    serde_json::Value::Object(map).to_string()
}

fn as_table(limits: &OrgLimits) -> String {
    let rows: Vec<[String; 5]> = limits
        .0
        .iter()
        .map(|(name, l)| {
            [
                name.clone(),
                thousands(l.used()),
                thousands(l.max),
                thousands(l.remaining),
                percent(l.used(), l.max),
            ]
        })
        .collect();
    let header = ["LIMIT", "USED", "MAX", "REMAINING", "USED %"].map(String::from);
    let widths: Vec<usize> = (0..5)
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    std::iter::once(&header)
        .chain(&rows)
        .map(|r| {
            let name = format!("{:<w$}", r[0], w = widths[0]);
            let numbers: Vec<String> = (1..5)
                .map(|c| format!("{:>w$}", r[c], w = widths[c]))
                .collect();
            format!("{name}  {}\n", numbers.join("  "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sample() -> OrgLimits {
        let limit: sfscale::Limit =
            serde_json::from_value(json!({"Max": 100000, "Remaining": 99000})).unwrap();
        OrgLimits(BTreeMap::from([("DailyApiRequests".to_owned(), limit)]))
    }

    #[test]
    fn the_table_shows_used_and_share() {
        let table = as_table(&sample());
        assert!(table.starts_with("LIMIT"), "{table}");
        assert!(
            table.contains("DailyApiRequests  1,000  100,000     99,000   1.0 %"),
            "{table}"
        );
    }

    #[test]
    fn json_carries_used() {
        let value: serde_json::Value = serde_json::from_str(&as_json(&sample())).unwrap();
        assert_eq!(value["DailyApiRequests"]["used"], 1000);
    }
}
