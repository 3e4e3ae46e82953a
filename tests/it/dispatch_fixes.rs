//! Dispatch defects, end to end through the real binary: a sustained rate limit is a
//! reason to slow down, not to fail rows; an error answer that is plain text or an
//! HTML page keeps its words (secrets redacted); and a server field error names the
//! row's cell (`Customers!E7`) beside the user's column header.

use crate::common::{TestEnv, records, statuses, xlsx};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde_json::{Value, json};
use sheetload::sandbox::SandboxOptions;

fn customers_csv(n: usize) -> String {
    let mut s = String::from("Kode Pelanggan,Nama,Kota,No HP\n");
    for i in 1..=n {
        s.push_str(&format!("C{i:05},Toko {i},Semarang,0812{i:07}\n"));
    }
    s
}

/// Issue 6: 300 rows at concurrency 16 against a server that takes 20 requests a
/// second, with no `--rate`: every row ends OK, because the shared limiter slows
/// down instead of counting 429s as failed tries, and it does so without hammering
/// the server (fewer 429s than rows).
#[test]
fn sustained_rate_limit_slows_down_and_every_row_ends_ok() {
    let done = TestEnv::new()
        .sandbox(SandboxOptions {
            rate_limit: Some(20),
            ..SandboxOptions::default()
        })
        .file("c.csv", customers_csv(300))
        .args(["import", "c.csv", "-e", "customers", "--concurrency", "16"])
        .run();
    done.expect_code(0);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 300);
    let by_status = statuses(&rows);
    assert_eq!(by_status.get("OK"), Some(&300), "{by_status:?}");
    let stats = done.stats();
    assert_eq!(stats["databases"]["1"]["records"]["customers"], 300);
    let limited = stats["faults"]["rate_limited"].as_u64().unwrap_or(0);
    assert!(limited > 0, "the rate limit was never reached: {stats}");
    // Fewer 429s than rows, by a wide margin (a run sees about ten).
    assert!(
        limited < 100,
        "{limited} answers were 429 for 300 rows: the client kept pushing"
    );
}

/// A fake SalesMania that signs anybody in and answers a create by the customer's
/// name: plain text echoing the team token, an nginx-style HTML page, a very long
/// text, a Laravel 422 on `location.lat` (a rule the server may have and local
/// validation cannot know), or 201 for any name starting with "Toko".
async fn fake_server() -> (String, tokio::task::JoinHandle<()>) {
    async fn create(body: axum::body::Bytes) -> axum::response::Response {
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let name = v["name"].as_str().unwrap_or_default();
        let text = |status, ctype: &'static str, body: String| {
            (status, [(header::CONTENT_TYPE, ctype)], body).into_response()
        };
        match name {
            "Locked" => text(
                StatusCode::BAD_REQUEST,
                "text/plain",
                "  Invalid request: customer is locked.\n(request /extapi/v1.0/customers?team_token=TEAM-SECRET-42 Authorization: Bearer BEARER-SECRET-7)\n".into(),
            ),
            "Html" => text(
                StatusCode::BAD_REQUEST,
                "text/html",
                "<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".into(),
            ),
            "Geo" => (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({
                    "message": "The location.lat must be between -90 and 90.",
                    "errors": {"location.lat": ["The location.lat must be between -90 and 90."]}
                })),
            )
                .into_response(),
            n if n.starts_with("Toko") => {
                (StatusCode::CREATED, axum::Json(json!({"id": 1}))).into_response()
            }
            _ => text(
                StatusCode::CONFLICT,
                "text/plain",
                format!("Conflict: {}", "the record is being edited by someone else. ".repeat(20)),
            ),
        }
    }
    let app = Router::new()
        .route(
            "/extapi/v1.0/token",
            get(|| async { axum::Json(json!({"token": "BEARER-SECRET-7"})) }),
        )
        .route(
            "/extapi/v1.0/databases",
            get(|| async { axum::Json(json!([{"db_id": 1, "name": "Demo"}])) }),
        )
        .route(
            "/extapi/v1.0/team_token",
            get(|| async { axum::Json(json!({"team_token": "TEAM-SECRET-42"})) }),
        )
        .route(
            "/extapi/v1.0/customers",
            get(|| async { axum::Json(json!({"data": [], "total": 0})) }).post(create),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let handle = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), handle)
}

/// Issue 11: a plain-text or HTML error body is shown (trimmed, secrets redacted),
/// not reduced to "not a JSON answer".
#[test]
fn plain_text_and_html_error_bodies_are_shown_redacted() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (base_url, server) = rt.block_on(fake_server());
    let done = TestEnv::new()
        .base_url(&base_url)
        .file(
            "c.csv",
            "Nama,Kota\nLocked,Semarang\nHtml,Solo\nLong,Kudus\n",
        )
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    server.abort();
    done.expect_code(1);
    let rows = records(&done.path("c.result.xlsx"), "Results");
    assert_eq!(rows.len(), 3);
    let error = |i: usize| rows[i]["_error"].clone();
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["_status"], "FAILED", "row {i}: {r:?}");
        assert!(!error(i).contains("not a JSON answer"), "{}", error(i));
    }
    assert!(
        error(0).starts_with("HTTP 400: Invalid request: customer is locked."),
        "{}",
        error(0)
    );
    for secret in ["TEAM-SECRET-42", "BEARER-SECRET-7"] {
        for i in 0..3 {
            assert!(
                !error(i).contains(secret),
                "row {i} leaks {secret}: {}",
                error(i)
            );
        }
        assert!(!done.stderr.contains(secret), "stderr leaks {secret}");
    }
    assert!(error(0).contains("[redacted]"), "{}", error(0));
    assert_eq!(
        error(1),
        "HTTP 400 (an HTML page: 400 Request Header Or Cookie Too Large)"
    );
    assert!(
        error(2).starts_with("HTTP 409: Conflict: the record is being edited"),
        "{}",
        error(2)
    );
    assert!(error(2).ends_with('…'), "{}", error(2));
    assert!(error(2).chars().count() < 230, "{}", error(2));
}

/// Issue 9 (the 422 part): a server field error names the user's column and the
/// row's cell, with its sheet in a workbook (`Lintang (Customers!E7)`) and without
/// one in a CSV (`Lintang (E7)`).
#[test]
fn server_field_errors_name_sheet_cell_and_column() {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (base_url, server) = rt.block_on(fake_server());
    let head = ["Nama", "Alamat", "Kota", "No HP", "Lintang", "Bujur"];
    let names = ["Toko 1", "Toko 2", "Toko 3", "Toko 4", "Toko 5", "Geo"];
    let mut csv = head.join(",") + "\n";
    for n in names {
        csv.push_str(&format!(
            "{n},Jl. Pemuda 1,Semarang,081234567890,-7.1,110.4\n"
        ));
    }
    let xlsx_run = TestEnv::new()
        .base_url(&base_url)
        .build("c.xlsx", |p| {
            xlsx(p, "Customers", |ws| {
                for (c, h) in head.iter().enumerate() {
                    ws.write_string(0, c as u16, *h).unwrap();
                }
                for (r, n) in names.iter().enumerate() {
                    let r = r as u32 + 1;
                    for (c, v) in [*n, "Jl. Pemuda 1", "Semarang", "081234567890"]
                        .iter()
                        .enumerate()
                    {
                        ws.write_string(r, c as u16, *v).unwrap();
                    }
                    ws.write_number(r, 4, -7.1).unwrap();
                    ws.write_number(r, 5, 110.4).unwrap();
                }
            })
        })
        .args(["import", "c.xlsx", "-e", "customers"])
        .run();
    let csv_run = TestEnv::new()
        .base_url(&base_url)
        .file("c.csv", csv)
        .args(["import", "c.csv", "-e", "customers"])
        .run();
    server.abort();
    for (done, result, cell) in [
        (&xlsx_run, "c.result.xlsx", "Customers!E7"),
        (&csv_run, "c.result.xlsx", "E7"),
    ] {
        done.expect_code(1);
        let rows = records(&done.path(result), "Results");
        let failed: Vec<_> = rows.iter().filter(|r| r["_status"] == "FAILED").collect();
        assert_eq!(failed.len(), 1, "{rows:?}");
        assert_eq!(failed[0]["_row"], "7");
        assert_eq!(failed[0]["_http"], "422");
        let expected = format!("Lintang ({cell}): The location.lat must be between -90 and 90.");
        assert!(
            failed[0]["_error"].contains(&expected),
            "{expected:?} missing from {}",
            failed[0]["_error"]
        );
    }
}
