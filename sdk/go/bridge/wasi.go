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
	"warpgrid.dev/sdk/internal/cabi"
)

var methods = [...]string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}

// readRequest turns the incoming wasi:http request into an http.Request
// whose body streams from the host.
func readRequest(request int32) (*http.Request, *inBody, error) {
	cabi.Lock()
	defer cabi.Unlock()
	defer dropIncomingRequest(request)
	mark := cabi.Mark()
	requestMethod(request, cabi.Ret())
	var method string
	if d := cabi.U8(0); int(d) < len(methods) {
		method = methods[d]
	} else {
		method = string(cabi.Bytes(cabi.U32(4), cabi.U32(8)))
	}
	requestPathWithQuery(request, cabi.Ret())
	path := "/"
	if cabi.U8(0) == 1 {
		path = string(cabi.Bytes(cabi.U32(4), cabi.U32(8)))
	}
	requestAuthority(request, cabi.Ret())
	host := ""
	if cabi.U8(0) == 1 {
		host = string(cabi.Bytes(cabi.U32(4), cabi.U32(8)))
	}
	cabi.Reset(mark)

	header := http.Header{}
	fields := requestHeaders(request)
	fieldsEntries(fields, cabi.Ret())
	list, n := cabi.U32(0), cabi.U32(4)
	for i := uint32(0); i < n; i++ {
		e := list + i*16
		name := string(cabi.Bytes(*(*uint32)(cabi.Ptr(e)), *(*uint32)(cabi.Ptr(e + 4))))
		value := string(cabi.Bytes(*(*uint32)(cabi.Ptr(e + 8)), *(*uint32)(cabi.Ptr(e + 12))))
		header.Add(name, value)
	}
	cabi.Reset(mark)
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

	requestConsume(request, cabi.Ret())
	if cabi.U8(0) != 0 {
		return req, nil, nil
	}
	handle := int32(cabi.U32(4))
	incomingBodyStream(handle, cabi.Ret())
	if cabi.U8(0) != 0 {
		dropIncomingBody(handle)
		return req, nil, nil
	}
	body := &inBody{body: handle, stream: int32(cabi.U32(4))}
	req.ContentLength = length
	if length != 0 {
		req.Body = body
	}
	return req, body, nil
}

// inBody reads the request body from the host's input-stream.
type inBody struct {
	body, stream int32
	closed       bool
	eof          bool
	// started: a Read was asked for (the body can no longer be resent).
	started bool
}

const readChunk = 64 << 10

func (b *inBody) Read(p []byte) (int, error) {
	b.started = true
	if b.eof || b.closed {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	cabi.Lock()
	defer cabi.Unlock()
	mark := cabi.Mark()
	defer cabi.Reset(mark)
	inputBlockingRead(b.stream, int64(min(len(p), readChunk)), cabi.Ret())
	if cabi.U8(0) != 0 {
		b.eof = true
		if cabi.U8(4) == 0 {
			dropError(int32(cabi.U32(8)))
			return 0, errors.New("reading the request body failed")
		}
		return 0, io.EOF
	}
	return copy(p, cabi.Bytes(cabi.U32(4), cabi.U32(8))), nil
}

func (b *inBody) Close() error { return nil }

func (b *inBody) close() {
	if b.closed {
		return
	}
	b.closed = true
	cabi.Lock()
	defer cabi.Unlock()
	dropInputStream(b.stream)
	dropIncomingBody(b.body)
}

// newFields builds a fields resource from name/value pairs.
func newFields(names, values []string) (int32, error) {
	cabi.Lock()
	defer cabi.Unlock()
	type entry struct{ name, nameLen, value, valueLen uint32 }
	entries := make([]entry, len(names))
	for i := range names {
		entries[i] = entry{cabi.String(names[i]), uint32(len(names[i])), cabi.String(values[i]), uint32(len(values[i]))}
	}
	var list unsafe.Pointer
	if len(entries) > 0 {
		list = unsafe.Pointer(&entries[0])
	}
	fieldsFromList(list, int32(len(entries)), cabi.Ret())
	cabi.Keep(names, values)
	if cabi.U8(0) != 0 {
		return 0, fmt.Errorf("the host refused the response headers (header error %d): %q", cabi.U8(4), names)
	}
	return int32(cabi.U32(4)), nil
}

// outBody writes a response body to the host's output-stream.
type outBody struct {
	body, stream int32
}

func openBody(response int32) (*outBody, error) {
	cabi.Lock()
	defer cabi.Unlock()
	responseBody(response, cabi.Ret())
	if cabi.U8(0) != 0 {
		return nil, errors.New("the host refused the response body")
	}
	body := int32(cabi.U32(4))
	outgoingBodyWrite(body, cabi.Ret())
	if cabi.U8(0) != 0 {
		return nil, errors.New("the host refused the response body stream")
	}
	return &outBody{body: body, stream: int32(cabi.U32(4))}, nil
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
	cabi.Lock()
	defer cabi.Unlock()
	for len(data) > 0 {
		outputCheckWrite(b.stream, cabi.Ret())
		if cabi.U8(0) != 0 {
			return b.streamErr(8)
		}
		permitted := cabi.U64(8)
		if permitted == 0 {
			p := outputSubscribe(b.stream)
			pollableBlock(p)
			dropPollable(p)
			continue
		}
		k := min(uint64(len(data)), permitted)
		outputWrite(b.stream, unsafe.Pointer(&data[0]), int32(k), cabi.Ret())
		if cabi.U8(0) != 0 {
			return b.streamErr(4)
		}
		data = data[k:]
	}
	outputFlush(b.stream, cabi.Ret())
	if cabi.U8(0) != 0 {
		b.streamErr(4)
	}
	return nil
}

func (b *outBody) streamErr(off uintptr) error {
	if cabi.U8(off) == 0 {
		dropError(int32(cabi.U32(off + 4)))
	}
	return errClientGone
}

func (b *outBody) finish() {
	cabi.Lock()
	defer cabi.Unlock()
	outputBlockingFlush(b.stream, cabi.Ret())
	if cabi.U8(0) != 0 {
		b.streamErr(4)
	}
	dropOutputStream(b.stream)
	var area [16]uint64
	outgoingBodyFinish(b.body, 0, 0, unsafe.Pointer(&area))
}
