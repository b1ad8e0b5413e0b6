package main

import (
	"bytes"
	"io"
	"sync"
)

// maxLine bounds one JSON-RPC message on stdin. Real messages here are a
// few kilobytes; mcp-go itself reads lines without a bound.
const maxLine = 1 << 20

// lineLimiter passes stdin through, except that a line longer than max is
// cut at max bytes and ended there; the rest of it is discarded as it
// streams in. The cut line is not valid JSON, so the server answers it with
// a parse error instead of holding the whole line in memory.
//
// It streams through a small buffer: a 1 MiB line buffer, zeroed and faulted
// in at start-up, cost 1.6 ms of cold start (BENCHMARKS.md).
type lineLimiter struct {
	r        io.Reader
	max      int
	lineLen  int  // bytes of the current line passed on so far
	dropping bool // the current line was cut; discard up to its newline
	chunk    []byte
	out      []byte
	pending  []byte
	err      error
}

func limitLines(r io.Reader, max int) io.Reader {
	return &lineLimiter{r: r, max: max, chunk: make([]byte, 32<<10)}
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		var n int
		n, l.err = l.r.Read(l.chunk)
		l.pending = l.filter(l.chunk[:n])
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

// filter applies the limit to the next piece of input.
func (l *lineLimiter) filter(in []byte) []byte {
	out := l.out[:0]
	for len(in) > 0 {
		end := bytes.IndexByte(in, '\n')
		segment := in
		if end >= 0 {
			segment = in[:end+1]
		}
		in = in[len(segment):]
		if l.dropping {
			if end >= 0 {
				l.dropping = false
			}
			continue
		}
		if room := l.max - l.lineLen; len(segment) > room && !(end >= 0 && len(segment)-1 <= room) {
			out = append(append(out, segment[:room]...), '\n')
			l.lineLen, l.dropping = 0, end < 0
			continue
		}
		out = append(out, segment...)
		l.lineLen += len(segment)
		if end >= 0 {
			l.lineLen = 0
		}
	}
	l.out = out
	return out
}

// atEnd calls onEnd once, when r first reports the end of input or an
// error, before passing that on.
func atEnd(r io.Reader, onEnd func()) io.Reader {
	return &endNotifier{r: r, onEnd: onEnd}
}

type endNotifier struct {
	r     io.Reader
	onEnd func()
	once  sync.Once
}

func (e *endNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil {
		e.once.Do(e.onEnd)
	}
	return n, err
}
