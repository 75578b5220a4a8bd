//go:build wasip1

package bridge

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"unsafe"
)

var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// readRequest turns the incoming wasi:http request into an http.Request
// whose body streams from the host.
func readRequest(request int32) (*http.Request, *inBody, error) {
	abi.Lock()
	defer abi.Unlock()
	defer dropIncomingRequest(request)
	mark := arenaMark()
	requestMethod(request, retPtr())
	var method string
	if d := retU8(0); int(d) < len(methods) {
		method = methods[d]
	} else {
		method = string(bytesAt(retU32(4), retU32(8)))
	}
	requestPathWithQuery(request, retPtr())
	path := "/"
	if retU8(0) == 1 {
		path = string(bytesAt(retU32(4), retU32(8)))
	}
	requestAuthority(request, retPtr())
	host := ""
	if retU8(0) == 1 {
		host = string(bytesAt(retU32(4), retU32(8)))
	}
	arenaReset(mark)

	header := http.Header{}
	fields := requestHeaders(request)
	fieldsEntries(fields, retPtr())
	list, n := retU32(0), retU32(4)
	for i := uint32(0); i < n; i++ {
		e := list + i*16
		name := string(bytesAt(*(*uint32)(ptr(e)), *(*uint32)(ptr(e + 4))))
		value := string(bytesAt(*(*uint32)(ptr(e + 8)), *(*uint32)(ptr(e + 12))))
		header.Add(name, value)
	}
	arenaReset(mark)
	dropFields(fields)

	u, err := url.ParseRequestURI(path)
	if err != nil {
		return nil, nil, fmt.Errorf("bad request target %q: %v", path, err)
	}
	if host == "" {
		host = header.Get("Host")
	}
	req := &http.Request{
		Method:     method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     header,
		Host:       host,
		Body:       http.NoBody,
	}
	// `Expect: 100-continue` goes through: it tells the program's server
	// that the client waits for the body to be read (which changes how
	// much unread body Go's server discards). Its interim 100 response is
	// skipped by readResponse; the host already answered the client.
	header.Del("Host")
	length := int64(-1)
	if cl := header.Get("Content-Length"); cl != "" {
		if length, err = strconv.ParseInt(cl, 10, 64); err != nil || length < 0 {
			return nil, nil, fmt.Errorf("bad Content-Length %q", cl)
		}
	} else if header.Get("Transfer-Encoding") == "" && (method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "DELETE" || method == "TRACE") {
		length = 0
	}
	header.Del("Transfer-Encoding")
	header.Del("Content-Length")

	requestConsume(request, retPtr())
	if retU8(0) != 0 {
		return req, nil, nil
	}
	handle := int32(retU32(4))
	incomingBodyStream(handle, retPtr())
	if retU8(0) != 0 {
		dropIncomingBody(handle)
		return req, nil, nil
	}
	body := &inBody{body: handle, stream: int32(retU32(4))}
	req.ContentLength = length
	if length != 0 {
		req.Body = body
	}
	return req, body, nil
}

func ptr(addr uint32) unsafe.Pointer { return unsafe.Pointer(uintptr(addr)) }

// inBody reads the request body from the host's input-stream.
type inBody struct {
	body, stream int32
	closed       bool
	eof          bool
}

const readChunk = 64 << 10

func (b *inBody) Read(p []byte) (int, error) {
	if b.eof || b.closed {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	abi.Lock()
	defer abi.Unlock()
	mark := arenaMark()
	defer arenaReset(mark)
	inputBlockingRead(b.stream, int64(min(len(p), readChunk)), retPtr())
	if retU8(0) != 0 {
		b.eof = true
		if retU8(4) == 0 {
			dropError(int32(retU32(8)))
			return 0, errors.New("reading the request body failed")
		}
		return 0, io.EOF
	}
	return copy(p, bytesAt(retU32(4), retU32(8))), nil
}

func (b *inBody) Close() error { return nil }

func (b *inBody) close() {
	if b.closed {
		return
	}
	b.closed = true
	abi.Lock()
	defer abi.Unlock()
	dropInputStream(b.stream)
	dropIncomingBody(b.body)
}

// newFields builds a fields resource from name/value pairs.
func newFields(names, values []string) (int32, error) {
	abi.Lock()
	defer abi.Unlock()
	type entry struct{ name, nameLen, value, valueLen uint32 }
	entries := make([]entry, len(names))
	for i := range names {
		entries[i] = entry{addr(names[i]), uint32(len(names[i])), addr(values[i]), uint32(len(values[i]))}
	}
	var list unsafe.Pointer
	if len(entries) > 0 {
		list = unsafe.Pointer(&entries[0])
	}
	fieldsFromList(list, int32(len(entries)), retPtr())
	keep(names, values)
	if retU8(0) != 0 {
		return 0, fmt.Errorf("the host refused the response headers (header error %d): %q", retU8(4), names)
	}
	return int32(retU32(4)), nil
}

func addr(s string) uint32 {
	if len(s) == 0 {
		return 1
	}
	return uint32(uintptr(unsafe.Pointer(unsafe.StringData(s))))
}

//go:noinline
func keep(...any) {}

// outBody writes a response body to the host's output-stream.
type outBody struct {
	body, stream int32
}

func openBody(response int32) (*outBody, error) {
	abi.Lock()
	defer abi.Unlock()
	responseBody(response, retPtr())
	if retU8(0) != 0 {
		return nil, errors.New("the host refused the response body")
	}
	body := int32(retU32(4))
	outgoingBodyWrite(body, retPtr())
	if retU8(0) != 0 {
		return nil, errors.New("the host refused the response body stream")
	}
	return &outBody{body: body, stream: int32(retU32(4))}, nil
}

var copyBuf = make([]byte, 64<<10)

// copyFrom streams r to the client, flushing after every read so what a
// handler flushes reaches the client as it is written.
func (b *outBody) copyFrom(r io.Reader) error {
	for {
		n, err := r.Read(copyBuf)
		if n > 0 {
			if werr := b.write(copyBuf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

var errClientGone = errors.New("the client went away")

// write hands data to the host and asks it to flush. A failed flush is
// not an error: the client may close as soon as it has the whole body.
func (b *outBody) write(data []byte) error {
	abi.Lock()
	defer abi.Unlock()
	for len(data) > 0 {
		outputCheckWrite(b.stream, retPtr())
		if retU8(0) != 0 {
			return b.streamErr(8)
		}
		permitted := retU64(8)
		if permitted == 0 {
			p := outputSubscribe(b.stream)
			pollableBlock(p)
			dropPollable(p)
			continue
		}
		k := min(uint64(len(data)), permitted)
		outputWrite(b.stream, unsafe.Pointer(&data[0]), int32(k), retPtr())
		if retU8(0) != 0 {
			return b.streamErr(4)
		}
		data = data[k:]
	}
	outputFlush(b.stream, retPtr())
	if retU8(0) != 0 {
		b.streamErr(4)
	}
	return nil
}

func (b *outBody) streamErr(off uintptr) error {
	if retU8(off) == 0 {
		dropError(int32(retU32(off + 4)))
	}
	return errClientGone
}

func (b *outBody) finish() {
	abi.Lock()
	defer abi.Unlock()
	outputBlockingFlush(b.stream, retPtr())
	if retU8(0) != 0 {
		b.streamErr(4)
	}
	dropOutputStream(b.stream)
	var area [16]uint64
	outgoingBodyFinish(b.body, 0, 0, unsafe.Pointer(&area))
}
