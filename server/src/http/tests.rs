//! In-process tests of the routes: status codes, JSON error bodies, and a
//! whole enrol-then-sync round through the router.

use std::sync::Arc;

use axum::{
    Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode, header},
};
use lynchpin_core::{
    CarePlanDetails, DocumentId, PlanStatus, SafetyList, Store, StoreKey, SyncScope,
    sync::{
        Step,
        wire::{DocEntry, DocStatus, Request as Frame},
    },
};
use tempfile::TempDir;
use tower::ServiceExt;

use crate::{
    Limits,
    auth::MAX_CLOCK_SKEW_MS,
    invite::{code_hash, enroll_message},
    now_ms, sign_request,
    storage::{NewInvite, ServerStore, sqlite::SqliteStore},
};

struct Fixture {
    store: Arc<SqliteStore>,
    app: Router,
    dir: TempDir,
}

impl Fixture {
    fn new(limits: Limits) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("server")).unwrap());
        let app = super::router(store.clone(), limits);
        Self { store, app, dir }
    }

    /// A device with a real store, not enrolled.
    fn device(&self, name: &str) -> Store {
        Store::open(self.dir.path().join(name), &StoreKey::new([1; 32])).unwrap()
    }

    /// A device enrolled directly in the storage.
    fn enrolled(&self, name: &str) -> Store {
        let device = self.device(name);
        let code = crate::invite::generate_code().unwrap();
        let hash = code_hash(&code).unwrap();
        self.store
            .create_invite(&NewInvite {
                code_hash: hash,
                label: None,
                created_ms: now_ms(),
                expires_ms: now_ms() + 60_000,
            })
            .unwrap();
        self.store
            .enroll(&hash, &device.device_id(), now_ms())
            .unwrap();
        device
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        (status, headers, body)
    }

    /// Calls and expects a JSON error with `code`.
    async fn expect_error(
        &self,
        request: Request<Body>,
        status: StatusCode,
        code: &str,
    ) -> HeaderMap {
        let (got, headers, body) = self.call(request).await;
        assert_eq!(got, status, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], code, "{json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        headers
    }

    /// Runs a whole sync session for `device` through the router.
    async fn sync(&self, device: &Store) -> lynchpin_core::sync::SyncReport {
        let (mut session, mut request) = device
            .start_sync(self.store.server_id(), SyncScope::All)
            .unwrap();
        loop {
            let (status, headers, body) = self.call(sync_request(device, request)).await;
            assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
            assert_eq!(headers[header::CONTENT_TYPE], "application/octet-stream");
            match device.continue_sync(&mut session, &body).unwrap() {
                Step::Send(next) => request = next,
                Step::Done(report) => return report,
            }
        }
    }
}

fn nonce() -> [u8; 16] {
    let mut nonce = [0; 16];
    getrandom::fill(&mut nonce).unwrap();
    nonce
}

/// A POST to /v1/sync signed by `device` at `timestamp`.
fn signed_at(device: &Store, body: Vec<u8>, timestamp: u64, nonce: [u8; 16]) -> Request<Body> {
    let mut builder = Request::post("/v1/sync");
    for (name, value) in sign_request(
        device.device_key(),
        "POST",
        "/v1/sync",
        &body,
        timestamp,
        &nonce,
    ) {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(body)).unwrap()
}

fn sync_request(device: &Store, body: Vec<u8>) -> Request<Body> {
    signed_at(device, body, now_ms(), nonce())
}

fn empty_frame() -> Vec<u8> {
    Frame {
        cursor: None,
        docs: Vec::new(),
        extensions: Vec::new(),
    }
    .encode()
}

fn plan(device: &Store) -> DocumentId {
    device
        .create_care_plan(&CarePlanDetails {
            subject_name: "Jo".into(),
            status: PlanStatus::Active,
            period_start: None,
            period_end: None,
            next_review: None,
        })
        .unwrap()
}

fn enroll_body(device: &Store, invite: &str) -> Request<Body> {
    let device_hex = device.device_id().to_string();
    let signature = device
        .device_key()
        .sign(&enroll_message(invite, &device_hex));
    let json = serde_json::json!({
        "invite": invite,
        "device": device_hex,
        "signature": hex::encode(signature),
    });
    Request::post("/v1/enroll")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json.to_string()))
        .unwrap()
}

#[tokio::test]
async fn health_says_ok_and_the_protocol() {
    let f = Fixture::new(Limits::default());
    let (status, _, body) = f
        .call(Request::get("/v1/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json, serde_json::json!({"status": "ok", "protocol": 1}));
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let f = Fixture::new(Limits::default());
    for path in ["/", "/v1", "/v1/nothing", "/v2/sync", "/v1/sync/extra"] {
        f.expect_error(
            Request::get(path).body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    }
    for (method, path) in [
        ("GET", "/v1/sync"),
        ("PUT", "/v1/sync"),
        ("GET", "/v1/enroll"),
        ("POST", "/v1/health"),
        ("DELETE", "/v1/health"),
    ] {
        f.expect_error(
            Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn a_device_enrols_with_an_invite_then_syncs_a_care_plan() {
    let f = Fixture::new(Limits::default());
    let code = crate::invite::generate_code().unwrap();
    f.store
        .create_invite(&NewInvite {
            code_hash: code_hash(&code).unwrap(),
            label: Some("Jo's phone".into()),
            created_ms: now_ms(),
            expires_ms: now_ms() + 3_600_000,
        })
        .unwrap();
    let a = f.device("a.db");
    // Typed in lower case without dashes: still the code.
    let typed = code.replace('-', "").to_lowercase();
    let (status, _, body) = f.call(enroll_body(&a, &typed)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["server"], f.store.server_id().to_string());
    assert_eq!(json["protocol"], 1);
    // The code works once.
    let b = f.device("b.db");
    f.expect_error(
        enroll_body(&b, &code),
        StatusCode::FORBIDDEN,
        "invite_invalid",
    )
    .await;

    let plan = plan(&a);
    a.add_safety_item(&plan, SafetyList::WarningSigns, "Withdrawn")
        .unwrap();
    let pushed = f.sync(&a).await;
    assert_eq!(pushed.documents_sent, 1, "{pushed:?}");
    // Enrolled but not granted: nothing.
    let c = f.enrolled("c.db");
    let pulled = f.sync(&c).await;
    assert_eq!(pulled.documents_received, 0, "{pulled:?}");
    a.grant(&plan, c.device_id(), lynchpin_core::Role::Reader)
        .unwrap();
    f.sync(&a).await;
    let pulled = f.sync(&c).await;
    assert_eq!(pulled.documents_received, 1, "{pulled:?}");
    assert_eq!(c.care_plan(&plan).unwrap(), a.care_plan(&plan).unwrap());
}

/// A signed GET of a document's access log.
fn access_log_request(device: &Store, doc: &DocumentId) -> Request<Body> {
    let path = format!("/v1/documents/{doc}/access-log");
    let mut builder = Request::get(&path);
    for (name, value) in sign_request(device.device_key(), "GET", &path, &[], now_ms(), &nonce()) {
        builder = builder.header(name, value);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn admins_read_the_access_log_and_no_one_else() {
    let f = Fixture::new(Limits::default());
    let owner = f.enrolled("owner.db");
    let reader = f.enrolled("reader.db");
    let plan = plan(&owner);
    owner
        .grant(&plan, reader.device_id(), lynchpin_core::Role::Reader)
        .unwrap();
    f.sync(&owner).await;
    f.sync(&reader).await;

    let (status, headers, body) = f.call(access_log_request(&owner, &plan)).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let log: super::AccessLogResponse = serde_json::from_slice(&body).unwrap();
    assert_eq!(log.document, plan.to_string());
    let entries: Vec<(lynchpin_core::DeviceId, &str)> = log
        .entries
        .iter()
        .map(|e| (e.device, e.action.as_str()))
        .collect();
    assert_eq!(
        entries,
        vec![(reader.device_id(), "read"), (owner.device_id(), "write")]
    );

    // A reader, a stranger and a made-up document: 403, the same answer.
    f.expect_error(
        access_log_request(&reader, &plan),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    let other = plan_id_of_nobody();
    f.expect_error(
        access_log_request(&owner, &other),
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await;
    // Unsigned: 401.
    f.expect_error(
        Request::get(format!("/v1/documents/{plan}/access-log"))
            .body(Body::empty())
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
}

fn plan_id_of_nobody() -> DocumentId {
    DocumentId::from_slice(&[7; 16]).unwrap()
}

#[tokio::test]
async fn enrolment_refuses_bad_proofs_and_bad_bodies() {
    let f = Fixture::new(Limits::default());
    let a = f.device("a.db");
    let code = "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF";
    f.store
        .create_invite(&NewInvite {
            code_hash: code_hash(code).unwrap(),
            label: None,
            created_ms: now_ms(),
            expires_ms: now_ms() + 60_000,
        })
        .unwrap();
    // Signed by another key: 401, and the invite is not burnt.
    let other = f.device("other.db");
    let forged = serde_json::json!({
        "invite": code,
        "device": a.device_id().to_string(),
        "signature": hex::encode(other.device_key().sign(&enroll_message(code, &a.device_id().to_string()))),
    });
    f.expect_error(
        Request::post("/v1/enroll")
            .body(Body::from(forged.to_string()))
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    for bad in [
        "not json".to_string(),
        "{}".to_string(),
        serde_json::json!({"invite": code, "device": "abc", "signature": "00"}).to_string(),
        serde_json::json!({"invite": code, "device": a.device_id().to_string(), "signature": "zz"})
            .to_string(),
    ] {
        f.expect_error(
            Request::post("/v1/enroll").body(Body::from(bad)).unwrap(),
            StatusCode::BAD_REQUEST,
            "malformed",
        )
        .await;
    }
    f.expect_error(
        Request::post("/v1/enroll")
            .body(Body::from(vec![b' '; 100 * 1024]))
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    // Not a code at all, and a code that was never issued.
    f.expect_error(
        enroll_body(&a, "hello"),
        StatusCode::FORBIDDEN,
        "invite_invalid",
    )
    .await;
    f.expect_error(
        enroll_body(&a, "GGGG-HHHH-IIII-JJJJ-KKKK-LLLL"),
        StatusCode::FORBIDDEN,
        "invite_invalid",
    )
    .await;
    assert!(!f.store.is_enrolled(&a.device_id()).unwrap());
    // The real proof with the real code still works.
    let (status, _, _) = f.call(enroll_body(&a, code)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(f.store.is_enrolled(&a.device_id()).unwrap());
}

#[tokio::test]
async fn an_unenrolled_device_gets_401_and_nothing_else() {
    let f = Fixture::new(Limits::default());
    let a = f.enrolled("a.db");
    let plan = plan(&a);
    f.sync(&a).await;
    let stranger = f.device("stranger.db");
    let (_session, request) = stranger
        .start_sync(f.store.server_id(), SyncScope::All)
        .unwrap();
    let (status, headers, body) = f.call(sync_request(&stranger, request)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::CONTENT_TYPE], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"], "unauthorized");
    assert!(!body.windows(3).any(|w| w == b"LYN"));
    assert!(!String::from_utf8_lossy(&body).contains(&plan.to_string()));
    // An enrolled device with a wrong signature reads exactly the same.
    let mut forged = sync_request(&stranger, empty_frame());
    forged.headers_mut().insert(
        "Lynchpin-Device",
        a.device_id().to_string().parse().unwrap(),
    );
    let (status, _, forged_body) = f.call(forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(forged_body, body);
}

#[tokio::test]
async fn requests_must_be_signed_fresh_and_never_replayed() {
    let f = Fixture::new(Limits::default());
    let a = f.enrolled("a.db");
    // No headers at all.
    f.expect_error(
        Request::post("/v1/sync")
            .body(Body::from(empty_frame()))
            .unwrap(),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // The body changed after signing.
    let mut tampered = sync_request(&a, empty_frame());
    *tampered.body_mut() = Body::from(
        Frame {
            cursor: None,
            docs: Vec::new(),
            extensions: vec![lynchpin_core::sync::wire::Extension {
                kind: 2,
                data: vec![],
            }],
        }
        .encode(),
    );
    f.expect_error(tampered, StatusCode::UNAUTHORIZED, "unauthorized")
        .await;
    // Too old, too far ahead.
    let now = now_ms();
    for timestamp in [
        now - MAX_CLOCK_SKEW_MS - 60_000,
        now + MAX_CLOCK_SKEW_MS + 60_000,
    ] {
        f.expect_error(
            signed_at(&a, empty_frame(), timestamp, nonce()),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    }
    // A little skew is fine.
    let (status, _, _) = f
        .call(signed_at(&a, empty_frame(), now - 60_000, nonce()))
        .await;
    assert_eq!(status, StatusCode::OK);
    // The same request twice: the second is a replay.
    let fixed = nonce();
    let (status, _, _) = f.call(signed_at(&a, empty_frame(), now, fixed)).await;
    assert_eq!(status, StatusCode::OK);
    let json = f
        .expect_error(
            signed_at(&a, empty_frame(), now, fixed),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
    drop(json);
    // The replay was refused by the storage, so a second server on the same
    // database refuses it too.
    let second = super::router(
        Arc::new(SqliteStore::open(f.dir.path().join("server")).unwrap()),
        Limits::default(),
    );
    let response = second
        .oneshot(signed_at(&a, empty_frame(), now, fixed))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn malformed_frames_get_400_with_json() {
    let f = Fixture::new(Limits::default());
    let a = f.enrolled("a.db");
    for garbage in [&b""[..], b"hello", b"LYN\x01\x01\x07"] {
        f.expect_error(
            sync_request(&a, garbage.to_vec()),
            StatusCode::BAD_REQUEST,
            "malformed",
        )
        .await;
    }
    let mut v2 = empty_frame();
    v2[3] = 2;
    f.expect_error(
        sync_request(&a, v2),
        StatusCode::BAD_REQUEST,
        "unsupported_version",
    )
    .await;
    // An error frame is not a request, whatever code it carries.
    let error_frame = lynchpin_core::sync::wire::encode_error(
        lynchpin_core::sync::wire::ErrorCode::Internal,
        "x",
    );
    f.expect_error(
        sync_request(&a, error_frame),
        StatusCode::BAD_REQUEST,
        "malformed",
    )
    .await;
}

#[tokio::test]
async fn bodies_and_frames_over_the_limits_get_413() {
    let f = Fixture::new(Limits {
        max_body_bytes: 1024,
        max_documents_per_request: 2,
        ..Limits::default()
    });
    let a = f.enrolled("a.db");
    f.expect_error(
        sync_request(&a, vec![0; 4096]),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    // Over the limit without a signature or device: still 413, before any
    // authentication, so the answer says nothing about who is enrolled.
    f.expect_error(
        Request::post("/v1/sync")
            .body(Body::from(vec![0; 4096]))
            .unwrap(),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    let docs = |n: u8| Frame {
        cursor: None,
        docs: (1..=n)
            .map(|i| DocEntry {
                id: DocumentId::from_slice(&[i; 16]).unwrap(),
                status: DocStatus::Ok,
                message: Vec::new(),
                extensions: Vec::new(),
            })
            .collect(),
        extensions: Vec::new(),
    };
    f.expect_error(
        sync_request(&a, docs(3).encode()),
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
    )
    .await;
    let (status, _, _) = f.call(sync_request(&a, docs(2).encode())).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_device_over_its_rate_gets_429_with_retry_after() {
    let f = Fixture::new(Limits {
        requests_per_minute: 2,
        ..Limits::default()
    });
    let a = f.enrolled("a.db");
    let b = f.enrolled("b.db");
    // The window is a clock minute, and a minute may turn during the test:
    // of five requests, the first two pass and at least one is refused
    // whichever way the minute falls.
    let mut limited = Vec::new();
    for i in 0..5 {
        let (status, headers, body) = f.call(sync_request(&a, empty_frame())).await;
        if i < 2 {
            assert_eq!(status, StatusCode::OK);
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited.push((headers, body));
        }
    }
    assert!(!limited.is_empty());
    for (headers, body) in limited {
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "rate_limited");
        let retry: u64 = headers[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
    }
    // Another device is not held back.
    let (status, _, _) = f.call(sync_request(&b, empty_frame())).await;
    assert_eq!(status, StatusCode::OK);
}
