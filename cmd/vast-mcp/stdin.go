package main

import (
	"bufio"
	"errors"
	"io"
)

// maxLine bounds one JSON-RPC message on stdin. Real messages here are a
// few kilobytes; mcp-go itself reads lines without a bound.
const maxLine = 1 << 20

// oversized replaces a line over maxLine: not JSON, so the server answers
// with a parse error instead of holding the whole line in memory.
var oversized = []byte("oversized message dropped\n")

// lineLimiter passes lines through unchanged, except that a line longer
// than max is dropped (read and discarded as it streams) and replaced.
type lineLimiter struct {
	r       *bufio.Reader
	pending []byte
	err     error
}

func limitLines(r io.Reader, max int) io.Reader {
	return &lineLimiter{r: bufio.NewReaderSize(r, max)}
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	for len(l.pending) == 0 {
		if l.err != nil {
			return 0, l.err
		}
		l.pending, l.err = l.nextLine()
	}
	n := copy(p, l.pending)
	l.pending = l.pending[n:]
	return n, nil
}

func (l *lineLimiter) nextLine() ([]byte, error) {
	line, err := l.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return append([]byte(nil), line...), err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = l.r.ReadSlice('\n')
	}
	return oversized, err
}
