//! A wasi:http service: answers every request with a greeting.
//!
//! `warp pack` builds this into a component that exports
//! `wasi:http/incoming-handler`; `warp run` serves it.

use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Service;

wasip2::http::proxy::export!(Service);

impl wasip2::exports::http::incoming_handler::Guest for Service {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let body = format!("hello from warp: {path}\n");

        let headers = Fields::new();
        // Setting a well-formed header value on a fresh `Fields` cannot fail.
        let _ = headers.set("content-type", &[b"text/plain; charset=utf-8".to_vec()]);
        let response = OutgoingResponse::new(headers);
        let Ok(outgoing) = response.body() else { return };
        ResponseOutparam::set(response_out, Ok(response));

        if let Ok(stream) = outgoing.write() {
            let _ = stream.blocking_write_and_flush(body.as_bytes());
        }
        let _ = OutgoingBody::finish(outgoing, None);
    }
}
