//! The HTTP ceiling for a body of a real answer's size (issue 23, part 2): like the shared rig's
//! limit-axum probe (any request, the same 200 `application/json` body, no middleware), but the
//! body is a file, e.g. the feed's answer, so that the cached feed is compared with a server that
//! does nothing but send as many bytes.
//!
//! Usage: cargo run --release --example ceiling -- PORT BODY_FILE   (listens on 127.0.0.1)

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(port), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: ceiling PORT BODY_FILE");
    };
    let port: u16 = port.parse()?;
    let body = Bytes::from(std::fs::read(&file)?);
    let size = body.len();
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "application/json")], body).into_response() }
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("ceiling listening on 127.0.0.1:{port}, answering {size} bytes");
    axum::serve(listener, app).await?;
    Ok(())
}
