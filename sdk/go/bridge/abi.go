//go:build wasip1

package bridge

// The canonical ABI of the few wasi:http and wasi:io functions the bridge
// calls, at the core-wasm level (flat parameters, a return area for
// results that do not fit one value). wit-component checks every one of
// these against warp's `wit/http` world at each pack, so a wrong signature
// fails the pack, never a request.

import "unsafe"

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-request.method
func requestMethod(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-request.path-with-query
func requestPathWithQuery(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-request.authority
func requestAuthority(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-request.headers
func requestHeaders(self int32) int32

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-request.consume
func requestConsume(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]incoming-request
func dropIncomingRequest(self int32)

//go:wasmimport wasi:http/types@0.2.12 [method]fields.entries
func fieldsEntries(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [static]fields.from-list
func fieldsFromList(list unsafe.Pointer, len int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]fields
func dropFields(self int32)

//go:wasmimport wasi:http/types@0.2.12 [method]incoming-body.stream
func incomingBodyStream(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [resource-drop]incoming-body
func dropIncomingBody(self int32)

//go:wasmimport wasi:http/types@0.2.12 [constructor]outgoing-response
func newOutgoingResponse(headers int32) int32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-response.set-status-code
func responseSetStatusCode(self int32, status int32) int32

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-response.body
func responseBody(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [method]outgoing-body.write
func outgoingBodyWrite(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [static]outgoing-body.finish
func outgoingBodyFinish(self int32, hasTrailers int32, trailers int32, ret unsafe.Pointer)

//go:wasmimport wasi:http/types@0.2.12 [static]response-outparam.set
func responseOutparamSet(param int32, isErr int32, response int32, a int32, b int64, c int32, d int32, e int32, f int32)

//go:wasmimport wasi:io/streams@0.2.12 [method]input-stream.blocking-read
func inputBlockingRead(self int32, len int64, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.12 [resource-drop]input-stream
func dropInputStream(self int32)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.check-write
func outputCheckWrite(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.write
func outputWrite(self int32, data unsafe.Pointer, len int32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.flush
func outputFlush(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.blocking-flush
func outputBlockingFlush(self int32, ret unsafe.Pointer)

//go:wasmimport wasi:io/streams@0.2.12 [method]output-stream.subscribe
func outputSubscribe(self int32) int32

//go:wasmimport wasi:io/streams@0.2.12 [resource-drop]output-stream
func dropOutputStream(self int32)

//go:wasmimport wasi:io/poll@0.2.12 [method]pollable.block
func pollableBlock(self int32)

//go:wasmimport wasi:io/poll@0.2.12 [resource-drop]pollable
func dropPollable(self int32)

//go:wasmimport wasi:io/error@0.2.12 [resource-drop]error
func dropError(self int32)
