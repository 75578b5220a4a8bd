//go:build wasip1

// Package cabi is the canonical ABI runtime the warp SDK's bindings share:
// the `cabi_realloc` the host lowers results through, the return area, and
// the lock that keeps a call and the reading of its results together.
package cabi

import (
	"sync"
	"unsafe"
)

// ret is the return area of every call. Go runs one goroutine at a time,
// but may switch goroutines at any function call, so a call and the
// reading of its results (from ret and from the arena) happen under Lock:
// the bridge's request writer and response reader never see each other's
// results.
var (
	ret [8]uint64
	mu  sync.Mutex
)

// Lock and Unlock bracket a call, the reading of its results and the
// rewinding of the arena.
func Lock()   { mu.Lock() }
func Unlock() { mu.Unlock() }

// Ret is the return area: pass it as a call's last argument.
func Ret() unsafe.Pointer            { return unsafe.Pointer(&ret) }
func U8(off uintptr) uint8           { return *(*uint8)(unsafe.Add(Ret(), off)) }
func U32(off uintptr) uint32         { return *(*uint32)(unsafe.Add(Ret(), off)) }
func U64(off uintptr) uint64         { return *(*uint64)(unsafe.Add(Ret(), off)) }
func Ptr(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }

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

// Mark and Reset bracket a host call whose results the caller copies out
// before the next one.
func Mark() uintptr      { return arenaTop }
func Reset(mark uintptr) { arenaTop = mark }

// Bytes views size bytes of linear memory at ptr (arena memory: copy
// before the next call).
func Bytes(ptr, size uint32) []byte {
	if size == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), size)
}

// String is the address of s's bytes as the canonical ABI passes it.
func String(s string) uint32 {
	if len(s) == 0 {
		return 1
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s))))
}

// Slice is the address of b's bytes as the canonical ABI passes it.
func Slice(b []byte) uint32 {
	if len(b) == 0 {
		return 1
	}
	return uint32(uintptr(unsafe.Pointer(&b[0])))
}

// Keep keeps values alive (and unmoved) up to this call.
//
//go:noinline
func Keep(...any) {}
