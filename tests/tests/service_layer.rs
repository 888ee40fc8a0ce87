//! The tower integration: `io.layer()` in front of another service answers the Socket.IO path
//! and passes everything else on; `io.service()` works on a plain hyper server.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use http::{Request, Response};
use sio_core::{Handlers, Server};
use tower::ServiceBuilder;

async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(5), fut).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

#[tokio::test]
async fn layer_serves_the_socket_io_path_and_passes_the_rest_on() {
    let io = Server::builder().ns("/", Handlers::new()).build();
    let fallback = tower::service_fn(|_req: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::from("app")))
    });
    let svc = ServiceBuilder::new().layer(io.layer()).service(fallback);
    let app = axum::Router::new().fallback_service(svc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let handshake =
        within("handshake", client.get(format!("http://{addr}/socket.io/?EIO=4&transport=polling")).send())
            .await
            .expect("request");
    let body = within("body", handshake.text()).await.expect("body");
    assert!(body.starts_with(r#"0{"sid":""#), "handshake through the layer: {body}");
    let other =
        within("other", client.get(format!("http://{addr}/index.html")).send()).await.expect("request");
    assert_eq!(within("body", other.text()).await.expect("body"), "app");
}

#[tokio::test]
async fn service_answers_engine_errors_like_the_reference() {
    let io = Server::builder().path("/rt/").ns("/", Handlers::new()).build();
    let app = axum::Router::new().merge(io.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let resp = within("request", reqwest::get(format!("http://{addr}/rt/?EIO=4&transport=carrier-pigeon")))
        .await
        .expect("request");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        within("body", resp.text()).await.expect("body"),
        r#"{"code":0,"message":"Transport unknown"}"#
    );
}
