//! A wasi:http service: answers with a greeting, and `/resolve/NAME` with
//! the addresses the deployment's DNS gives NAME.
//!
//! `warp pack` builds this into a component that exports
//! `wasi:http/incoming-handler`; `warp run` serves it. Names come from the
//! `[shims.dns]` registry in warp.toml through the warpgrid SDK.

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Service;

wasip2::http::proxy::export!(Service);

impl wasip2::exports::http::incoming_handler::Guest for Service {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let (status, body) = match path.strip_prefix("/resolve/") {
            Some(name) => match warpgrid::dns::resolve(name) {
                Ok(addrs) => (200, addrs.iter().map(|addr| format!("{addr}\n")).collect()),
                Err(e) => (404, format!("{name}: {e}\n")),
            },
            None => (200, format!("hello from warp: {path}\n")),
        };

        let headers = Fields::new();
        // Setting a well-formed header value on a fresh `Fields` cannot fail.
        let _ = headers.set("content-type", &[b"text/plain; charset=utf-8".to_vec()]);
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let Ok(outgoing) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));

        if let Ok(stream) = outgoing.write() {
            let _ = stream.blocking_write_and_flush(body.as_bytes());
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}
