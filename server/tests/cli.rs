//! The binary as an operator runs it: start on a free port, print the
//! listening line, make an invite while serving, enrol a device over real
//! HTTP, keep personal data out of the log, stop cleanly on SIGTERM.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    time::Duration,
};

const BIN: &str = env!("CARGO_BIN_EXE_lynchpin-server");

/// One HTTP/1.1 request over a fresh connection: (status, body).
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Starts the server on a free port: the child, its stdout and its address.
fn start(data: &Path, log: &Path) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim_end()
        .strip_prefix("lynchpin-server listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, stdout, addr)
}

fn terminate(child: &Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

fn invite(data: &Path, label: &str) -> String {
    let output = Command::new(BIN)
        .args(["invite", "--data"])
        .arg(data)
        .args(["--label", label, "--valid-hours", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    lines[0].to_owned()
}

#[test]
fn the_server_starts_enrols_and_stops_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log_path = dir.path().join("server.log");
    let (mut child, mut stdout, addr) = start(&data, &log_path);
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    let (status, body) = http(&addr, "GET", "/v1/health", "");
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap(),
        serde_json::json!({"status": "ok", "protocol": 1})
    );

    // An invite made by a second process while the server runs.
    let label = "Robin Example's tablet";
    let code = invite(&data, label);
    assert_eq!(code.len(), 29, "{code}");

    let device_dir = tempfile::tempdir().unwrap();
    let device = lynchpin_core::Store::open(
        device_dir.path().join("device.db"),
        &lynchpin_core::StoreKey::new([4; 32]),
    )
    .unwrap();
    let device_hex = device.device_id().to_string();
    let signature = device
        .device_key()
        .sign(&lynchpin_server::invite::enroll_message(&code, &device_hex));
    let enrol = serde_json::json!({
        "invite": code,
        "device": device_hex,
        "signature": hex::encode(signature),
    })
    .to_string();
    let (status, body) = http(&addr, "POST", "/v1/enroll", &enrol);
    assert_eq!(status, 201, "{body}");
    let server: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(server["server"].as_str().unwrap().len(), 64);
    let (status, body) = http(&addr, "POST", "/v1/enroll", &enrol);
    assert_eq!(status, 403, "{body}");
    let (status, body) = http(&addr, "GET", "/nowhere", "");
    assert_eq!((status, body.contains("not_found")), (404, true));

    // SIGTERM: the server finishes and exits 0.
    terminate(&child);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "only the listening line goes to stdout");

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("device enrolled"), "{log}");
    assert!(log.contains(&device_hex[..8]), "{log}");
    assert!(
        !log.contains(&device_hex),
        "a whole device id was logged: {log}"
    );
    assert!(!log.contains(label), "the invite label was logged: {log}");
    assert!(!log.contains(&code), "the invite code was logged: {log}");
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn a_request_in_flight_is_answered_before_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, _stdout, addr) = start(&dir.path().join("data"), &dir.path().join("log"));
    // Half a request: headers and part of the body.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let body = vec![b'x'; 2048];
    write!(
        stream,
        "POST /v1/sync HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body[..1024]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    terminate(&child);
    // The server waits for the request in flight…
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server quit mid-request"
    );
    // …answers it once it is complete (unsigned: 401), then exits cleanly.
    stream.write_all(&body[1024..]).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 401"), "{response}");
    assert!(
        response.contains("\"error\":\"unauthorized\""),
        "{response}"
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}
