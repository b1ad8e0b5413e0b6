package main

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLineLimiter(t *testing.T) {
	const max = 16
	tests := []struct{ name, in, want string }{
		{"short lines pass", "a\nbb\n", "a\nbb\n"},
		{"a line at the limit passes", strings.Repeat("x", max-1) + "\n", strings.Repeat("x", max-1) + "\n"},
		{"a line just over the limit is cut", strings.Repeat("x", max+1) + "\n", strings.Repeat("x", max) + "\n"},
		{"a long line is cut and the rest dropped", "a\n" + strings.Repeat("x", 100) + "\nb\n", "a\n" + strings.Repeat("x", max) + "\nb\n"},
		{"a long last line without newline", strings.Repeat("x", 100), strings.Repeat("x", max) + "\n"},
		{"a last line without newline", "a\nb", "a\nb"},
		{"many lines", strings.Repeat("ab\n", 1000), strings.Repeat("ab\n", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := io.ReadAll(limitLines(strings.NewReader(tt.in), max))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			// The same when the input arrives a byte at a time.
			got, err = io.ReadAll(limitLines(iotest.OneByteReader(strings.NewReader(tt.in)), max))
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}
