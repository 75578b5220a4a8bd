//go:build wasip1

package bridge

// The canonical ABI of the few wasi:http and wasi:io functions the bridge
// calls, at the core-wasm level (flat parameters, a return area for
// results that do not fit one value). wit-component checks every one of
// these against warp's `wit/http` world at each pack, so a wrong signature
// fails the pack, never a request.

import (
	"sync"
	"unsafe"
)

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

// ret is the return area of every call above. Go runs one goroutine at a
// time, but may switch goroutines at any function call, so a call and the
// reading of its results (from ret and from the arena) happen under abi:
// the bridge's request writer and response reader never see each other's
// results.
var (
	ret [8]uint64
	abi sync.Mutex
)

func retPtr() unsafe.Pointer    { return unsafe.Pointer(&ret) }
func retU8(off uintptr) uint8   { return *(*uint8)(unsafe.Add(retPtr(), off)) }
func retU32(off uintptr) uint32 { return *(*uint32)(unsafe.Add(retPtr(), off)) }
func retU64(off uintptr) uint64 { return *(*uint64)(unsafe.Add(retPtr(), off)) }

// The host writes the strings and lists it returns through `cabi_realloc`,
// in the middle of a call, when the component model forbids any import
// call. Go's allocator may read the clock or run the GC (both imports), so
// `cabi_realloc` never allocates from Go: it bumps through `arena`, and the
// bridge copies what a call returned into Go memory and rewinds the arena
// right after the call.
const arenaSize = 4 << 20

var (
	arena    [arenaSize]byte
	arenaTop uintptr
)

//go:wasmexport cabi_realloc
func cabiRealloc(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	return bump(arena[:], &arenaTop, old, oldSize, align, newSize)
}

// The preview1 adapter's own stack and state, allocated once and kept for
// the instance's life, come from a separate arena that is never rewound.
var (
	adapterArena    [1 << 20]byte
	adapterArenaTop uintptr
)

//go:wasmexport cabi_realloc_adapter
func cabiReallocAdapter(old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	return bump(adapterArena[:], &adapterArenaTop, old, oldSize, align, newSize)
}

// bump allocates newSize bytes aligned to align from region, copying the
// old allocation when the host grows one (lists whose length it learns
// while writing). Running out is a bug in the bridge's read sizes; it
// panics, which traps the instance and fails only this request.
func bump(region []byte, top *uintptr, old unsafe.Pointer, oldSize, align, newSize uintptr) unsafe.Pointer {
	if newSize == 0 {
		return unsafe.Pointer(align)
	}
	base := uintptr(unsafe.Pointer(&region[0]))
	start := (base + *top + align - 1) &^ (align - 1)
	end := start + newSize
	if end > base+uintptr(len(region)) {
		panic("warp bridge: canonical ABI arena exhausted")
	}
	*top = end - base
	p := unsafe.Pointer(start)
	if old != nil && oldSize > 0 {
		copy(unsafe.Slice((*byte)(p), newSize), unsafe.Slice((*byte)(old), min(oldSize, newSize)))
	}
	return p
}

// arenaMark and arenaReset bracket a host call whose results the caller
// copies out before the next one.
func arenaMark() uintptr      { return arenaTop }
func arenaReset(mark uintptr) { arenaTop = mark }

// bytesAt views size bytes of linear memory at ptr (arena memory: copy
// before the next call).
func bytesAt(ptr, size uint32) []byte {
	if size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)
}
