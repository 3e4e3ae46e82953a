//! `--json` says where an import's time went: the fixed costs before the first request
//! (sign-in aside) and after the last answer (the result workbook aside), which must not
//! grow with the rows.

use serde_json::Value;
use sheetload::sandbox::SandboxOptions;

use crate::common::TestEnv;

fn customers(rows: usize) -> String {
    let mut s = String::from("ext_cust_no,name,city,phone\n");
    for i in 0..rows {
        s.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:08}\n"));
    }
    s
}

#[test]
fn json_reports_the_fixed_costs_of_an_import() {
    let ran = TestEnv::new()
        .sandbox(SandboxOptions {
            latency_ms: 5,
            ..SandboxOptions::default()
        })
        .file("c.csv", customers(200))
        .args(["--json", "--quiet", "import", "c.csv", "-e", "customers"])
        .args(["--concurrency", "16"])
        .run();
    ran.expect_code(0);
    let json: Value = serde_json::from_str(ran.stdout.trim()).expect("one JSON document");
    let t = &json["timings"];
    let secs = |k: &str| {
        t[k].as_f64()
            .unwrap_or_else(|| panic!("timings.{k} is a number: {t}"))
    };
    let total = secs("total_seconds");
    let parts = secs("sign_in_seconds")
        + secs("to_first_request_seconds")
        + secs("first_to_last_answer_seconds")
        + secs("result_seconds")
        + secs("after_last_answer_seconds");
    // The parts cover the run up to the summary, each once.
    assert!(
        (parts - total).abs() < 0.05,
        "parts {parts} vs total {total}: {t}"
    );
    // 200 rows at 5 ms and concurrency 16 take at least 60 ms of answers.
    assert!(secs("first_to_last_answer_seconds") >= 0.05, "{t}");
    // A debug build on a shared machine: generous, but far below a row-bound cost.
    assert!(secs("to_first_request_seconds") < 2.0, "{t}");
    assert!(secs("after_last_answer_seconds") < 2.0, "{t}");
    assert_eq!(json["ok"], 200);
}
