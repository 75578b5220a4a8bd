// Package warpgrid is the Go SDK of WarpGrid: what a service reaches
// through warp's shims when it runs as a component (`warp pack --lang go`),
// and the ordinary Go equivalent when it runs natively (`go run`), so the
// same code works in both.
//
//   - [Resolve] and [LookupHost]: names through the deployment's service
//     registry (`*.warp.local`), then the host's resolver. Needs the DNS
//     shim (`[shims.dns]`).
//   - [ReadFile] and [IsVirtual]: files the deployment provides virtually,
//     else the (preopened) filesystem. Needs `[shims] filesystem`.
//   - [OnSignal] and [PollSignal]: lifecycle signals (stop, reload,
//     interrupt). Needs `[shims] signals`.
//   - [DialContext] and [Dial]: a connection to a database listed in
//     warp.toml's `[[shims.database]]` goes through the runner's pooled
//     database proxy; anything else is dialed as usual. Plug it into the
//     driver: go-redis `Options.Dialer = warpgrid.DialContext`,
//     go-sql-driver/mysql `mysql.RegisterDialContext("tcp", ...)`; pgx
//     resolves names itself, so it takes two lines:
//     `config.DialFunc = warpgrid.DialContext` and
//     `config.LookupFunc = warpgrid.LookupHost`.
//
// The module is served by warp itself: `warp pack` replaces
// warpgrid.dev/sdk with the copy built into warp, so it is never downloaded.
// For native builds, add a `replace warpgrid.dev/sdk => PATH` to a copy
// (`warp new` templates do this).
package warpgrid

import (
	"context"
	"errors"
	"net"
)

// Signal is a lifecycle signal the runner delivers.
type Signal int

const (
	// Terminate: the instance is being stopped.
	Terminate Signal = iota
	// Hangup: the deployment's configuration was reloaded.
	Hangup
	// Interrupt: Ctrl-C.
	Interrupt
)

func (s Signal) String() string {
	switch s {
	case Terminate:
		return "terminate"
	case Hangup:
		return "hangup"
	case Interrupt:
		return "interrupt"
	}
	return "unknown"
}

// Errors of the shims, comparable with errors.Is.
var (
	ErrNotFound          = errors.New("warpgrid: name not found")
	ErrTimeout           = errors.New("warpgrid: timed out")
	ErrConnectionRefused = errors.New("warpgrid: connection refused (no database endpoint in warp.toml matches)")
	ErrPoolExhausted     = errors.New("warpgrid: database pool exhausted")
	ErrProtocol          = errors.New("warpgrid: database protocol error")
	ErrClosed            = errors.New("warpgrid: connection closed")
)

// Dial connects to address on network (see [DialContext]).
func Dial(network, address string) (net.Conn, error) {
	return DialContext(context.Background(), network, address)
}
